using Berth.Containers;

namespace Titanic.Gateway;

/// <summary>The seed's FastAPIContainer: one container serving the survival model on port 8080.</summary>
public sealed partial class FastApiContainer : Container
{
    /// <summary>The demo routes every request to one instance, as the seed does.</summary>
    public const string Singleton = "singleton";

    public FastApiContainer()
    {
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromMinutes(10);
        PingEndpoint = "/api/health";
    }

    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        LogStarting(Logger, Context.Id.ToString());
        return Task.CompletedTask;
    }

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        LogStopped(Logger, stop.ExitCode, stop.Reason);
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "Model container starting for object {ObjectId}")]
    private static partial void LogStarting(ILogger logger, string objectId);

    [LoggerMessage(2, LogLevel.Information, "Model container stopped: exit code {ExitCode} ({Reason})")]
    private static partial void LogStopped(ILogger logger, int exitCode, StopReason reason);
}
