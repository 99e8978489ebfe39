namespace Berth.Hosting;

/// <summary>A deploy, rollback or version request that could not be done; nothing that runs was changed.</summary>
/// <param name="status">The HTTP status the admin API answers with.</param>
/// <param name="title">A short title, e.g. <c>Build failed</c>.</param>
/// <param name="message">What went wrong, with the failing step's output for builds and pushes.</param>
public sealed class DeployException(int status, string title, string message) : Exception(message)
{
    /// <summary>The HTTP status the admin API answers with (400, 404, 409, 422, 502, 503).</summary>
    public int Status { get; } = status;

    /// <summary>A short title.</summary>
    public string Title { get; } = title;
}
