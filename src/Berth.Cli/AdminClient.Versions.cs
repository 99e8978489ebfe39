using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Berth.Cli;

/// <summary>One version of a class as the admin API shows it.</summary>
internal sealed record VersionInfo(string ClassName, int Number, string Image, string? Digest, string ConfigHash, DateTimeOffset CreatedAt, string Trigger);

/// <summary>A class's versions (newest first) and its traffic.</summary>
internal sealed record VersionList(string Class, int? Current, int? Candidate, int CandidatePercent, IReadOnlyList<VersionInfo> Versions);

/// <summary>A rollout's progress as the admin API shows it.</summary>
internal sealed record RolloutInfo(
    string ClassName, int? FromVersion, int ToVersion, string State, IReadOnlyList<int> Steps, int StepIndex, int Replaced, int Total,
    DateTimeOffset StartedAt, DateTimeOffset UpdatedAt, string? Error);

/// <summary>What a deploy or rollback did.</summary>
internal sealed record DeployInfo(VersionInfo Version, RolloutInfo? Rollout);

internal sealed partial class AdminClient
{
    /// <summary>The class's versions and traffic.</summary>
    public async Task<VersionList> VersionsAsync(string className, CancellationToken cancellationToken) =>
        await GetJsonAsync<VersionList>($"classes/{Uri.EscapeDataString(className)}/versions", cancellationToken);

    /// <summary>One version of the class.</summary>
    public async Task<VersionInfo> VersionAsync(string className, int number, CancellationToken cancellationToken) =>
        await GetJsonAsync<VersionInfo>($"classes/{Uri.EscapeDataString(className)}/versions/{number}", cancellationToken);

    /// <summary>The class's newest rollout, or <see langword="null"/> when it never had one.</summary>
    public async Task<RolloutInfo?> RolloutAsync(string className, CancellationToken cancellationToken)
    {
        try
        {
            return await GetJsonAsync<RolloutInfo>($"classes/{Uri.EscapeDataString(className)}/rollout", cancellationToken);
        }
        catch (CliException ex) when (ex.ExitCode == ExitCodes.NotFound && ex.Message.Contains("no rollout", StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>The newest rollout of every class.</summary>
    public async Task<IReadOnlyList<RolloutInfo>> RolloutsAsync(CancellationToken cancellationToken) =>
        await GetJsonAsync<List<RolloutInfo>>("rollouts", cancellationToken);

    /// <summary>Deploys a build context (a tar stream, sent as it is produced) or an image reference.</summary>
    public async Task<DeployInfo> DeployAsync(string className, HttpContent body, int percent, string? dockerfile, CancellationToken cancellationToken)
    {
        var query = $"?percent={percent}" + (dockerfile is null ? "" : $"&dockerfile={Uri.EscapeDataString(dockerfile)}");
        using var response = await SendAsync(HttpMethod.Post, $"classes/{Uri.EscapeDataString(className)}/deploy{query}", body, cancellationToken);
        return await ReadAsync<DeployInfo>(response, cancellationToken);
    }

    /// <summary>Rolls the class back to <paramref name="number"/>, or to the version before the current one.</summary>
    public async Task<DeployInfo> RollbackAsync(string className, int? number, CancellationToken cancellationToken)
    {
        using var body = number is { } n ? JsonContent.Create(new { version = n }) : null;
        using var response = await SendAsync(HttpMethod.Post, $"classes/{Uri.EscapeDataString(className)}/rollback", body, cancellationToken);
        return await ReadAsync<DeployInfo>(response, cancellationToken);
    }

    /// <summary>A JSON body <c>{ "image": ref }</c>.</summary>
    public static HttpContent ImageBody(string image)
    {
        var content = JsonContent.Create(new { image });
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private async Task<T> GetJsonAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }
}
