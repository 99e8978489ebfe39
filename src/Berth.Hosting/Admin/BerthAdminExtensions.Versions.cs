using System.Text.Json;
using Berth.Containers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

// Versions, deploys, rollbacks and rollouts (issue 13): see docs/deploys.md.
public static partial class BerthAdminExtensions
{
    private static void MapVersions(RouteGroupBuilder group)
    {
        group.MapPost("/classes/{className}/deploy", DeployAsync);
        group.MapGet("/classes/{className}/versions", VersionsAsync);
        group.MapGet("/classes/{className}/versions/{number:int}", VersionAsync);
        group.MapPost("/classes/{className}/rollback", RollbackAsync);
        group.MapGet("/classes/{className}/rollout", RolloutAsync);
        group.MapGet("/rollouts", RolloutsAsync);
    }

    private static IResult DeployProblem(DeployException ex) =>
        Results.Problem(ex.Message, statusCode: ex.Status, title: ex.Title);

    private static IResult NoVersions() => Results.Problem(
        "Versions need the app's config file and the node's version store (AddBerth with UseConfigFile).",
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "Versions unavailable");

    private static async Task<IResult> DeployAsync(
        string className, int? percent, string? dockerfile, HttpContext http, IOptions<AdminOptions> options, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        if (services.GetService<ClassDeployer>() is not { } deployer)
        {
            return NoVersions();
        }

        var limit = options.Value.MaxDeployContextBytes;
        var contentType = http.Request.ContentType ?? "";
        try
        {
            if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                AdminDeployRequest? request;
                try
                {
                    request = await JsonSerializer.DeserializeAsync<AdminDeployRequest>(
                        new BoundedReadStream(http.Request.Body, AdminOptions.MaxDeployJsonBytes), AdminJson, cancellationToken);
                }
                catch (Exception ex) when (ex is JsonException or BoundedReadStream.LimitExceededException)
                {
                    return Results.Problem("body: not valid JSON; allowed: { \"image\": \"ref\" } (at most 64 KiB).", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
                }

                if (request?.Image is not { Length: > 0 } image)
                {
                    return Results.Problem("image: required; allowed: an image reference such as my-api:1.2.", statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
                }

                var byReference = await deployer.DeployAsync(className, null, null, image, percent ?? 100, null, cancellationToken);
                return Results.Json(byReference, AdminJson, statusCode: StatusCodes.Status202Accepted);
            }

            if (!(contentType.StartsWith("application/x-tar", StringComparison.OrdinalIgnoreCase)
                || contentType.StartsWith("application/gzip", StringComparison.OrdinalIgnoreCase)
                || contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase)))
            {
                return Results.Problem(
                    $"Content-Type: '{Shorten(contentType)}' is not allowed; allowed: application/x-tar (a build context, optionally gzipped: application/gzip) or application/json ({{ \"image\": \"ref\" }}).",
                    statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
            }

            if (http.Request.ContentLength is { } declared && declared > limit)
            {
                return ContextTooLarge(limit);
            }

            // Streamed to the engine as it arrives; Kestrel's own 30 MB limit gives way to the admin option's.
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = limit;
            }

            var context = new BoundedReadStream(http.Request.Body, limit);
            try
            {
                var built = await deployer.DeployAsync(className, context, dockerfile, null, percent ?? 100, null, cancellationToken);
                return Results.Json(built, AdminJson, statusCode: StatusCodes.Status202Accepted);
            }
            catch (Exception) when (context.Exceeded)
            {
                return ContextTooLarge(limit);
            }
        }
        catch (DeployException ex)
        {
            return DeployProblem(ex);
        }
    }

    private static IResult ContextTooLarge(long limit) => Results.Problem(
        $"body: the build context is larger than {limit} bytes; allowed: at most Berth:Admin:MaxDeployContextBytes ({limit}). Add a .dockerignore, or raise the limit.",
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Build context too large");

    private static async Task<IResult> VersionsAsync(string className, IServiceProvider services, BerthAppConfig config, CancellationToken cancellationToken)
    {
        if (services.GetService<IClassVersionStore>() is not { } store)
        {
            return NoVersions();
        }

        if (UnknownClass(config, className) is { } unknown)
        {
            return unknown;
        }

        var traffic = await store.GetTrafficAsync(className, cancellationToken);
        var versions = await store.ListAsync(className, cancellationToken);
        return Results.Json(new AdminVersions(className, traffic?.Current, traffic?.Candidate, traffic?.CandidatePercent ?? 0, versions), AdminJson);
    }

    private static async Task<IResult> VersionAsync(string className, int number, IServiceProvider services, BerthAppConfig config, CancellationToken cancellationToken)
    {
        if (services.GetService<IClassVersionStore>() is not { } store)
        {
            return NoVersions();
        }

        if (UnknownClass(config, className) is { } unknown)
        {
            return unknown;
        }

        return await store.GetAsync(className, number, cancellationToken) is { } version
            ? Results.Json(version, AdminJson)
            : Results.Problem($"version: class '{Shorten(className)}' has no version {number}; 'berth versions list' shows them.",
                statusCode: StatusCodes.Status404NotFound, title: "Not found");
    }

    private static async Task<IResult> RollbackAsync(string className, HttpContext http, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<ClassDeployer>() is not { } deployer)
        {
            return NoVersions();
        }

        int? number = null;
        if (http.Request.ContentLength is not 0 && (http.Request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                number = (await JsonSerializer.DeserializeAsync<AdminRollbackRequest>(
                    new BoundedReadStream(http.Request.Body, AdminOptions.MaxDeployJsonBytes), AdminJson, cancellationToken))?.Version;
            }
            catch (Exception ex) when (ex is JsonException or BoundedReadStream.LimitExceededException)
            {
                return Results.Problem("body: not valid JSON; allowed: { \"version\": n }, or no body for the previous version.",
                    statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
            }
        }

        try
        {
            return Results.Json(await deployer.RollbackAsync(className, number, cancellationToken), AdminJson, statusCode: StatusCodes.Status202Accepted);
        }
        catch (DeployException ex)
        {
            return DeployProblem(ex);
        }
    }

    private static async Task<IResult> RolloutAsync(string className, IServiceProvider services, BerthAppConfig config, CancellationToken cancellationToken)
    {
        if (UnknownClass(config, className) is { } unknown)
        {
            return unknown;
        }

        return services.GetService<IRolloutCoordinator>() is { } coordinator && await coordinator.GetStatusAsync(className, cancellationToken) is { } status
            ? Results.Json(status, AdminJson)
            : Results.Problem($"Class '{Shorten(className)}' has had no rollout on this node.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
    }

    private static async Task<IResult> RolloutsAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        Results.Json(services.GetService<IRolloutCoordinator>() is { } coordinator ? await coordinator.ListAsync(cancellationToken) : [], AdminJson);

    private static IResult? UnknownClass(BerthAppConfig config, string className) =>
        config.FindContainer(className) is null
            ? Results.Problem(
                $"The app has no container class '{Shorten(className)}'; its classes are: {string.Join(", ", config.Containers.Select(c => c.ClassName).DefaultIfEmpty("(none)"))}.",
                statusCode: StatusCodes.Status404NotFound, title: "Not found")
            : null;
}

/// <summary>Body of a deploy by image reference.</summary>
internal sealed record AdminDeployRequest(string? Image);

/// <summary>Body of a rollback: the version, or none for the previous one.</summary>
internal sealed record AdminRollbackRequest(int? Version);

/// <summary>A class's versions, newest first, and its traffic (<c>Current</c> is <see langword="null"/> before the first version).</summary>
internal sealed record AdminVersions(string Class, int? Current, int? Candidate, int CandidatePercent, IReadOnlyList<ClassVersion> Versions);

/// <summary>Reads at most a given number of bytes of an inner stream; reading past that throws and sets <see cref="Exceeded"/>.</summary>
internal sealed class BoundedReadStream(Stream inner, long limit) : Stream
{
    private long _read;

    /// <summary>Thrown when the inner stream has more than the limit.</summary>
    public sealed class LimitExceededException(long limit) : IOException($"The body is larger than {limit} bytes.");

    public bool Exceeded { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int read)
    {
        _read += read;
        if (_read > limit)
        {
            Exceeded = true;
            throw new LimitExceededException(limit);
        }

        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
