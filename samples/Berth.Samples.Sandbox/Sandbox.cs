using Berth.Containers;

namespace Berth.Samples.Sandbox;

/// <summary>
/// One sandbox container per session: busybox httpd on port 8080, no route to the internet, asleep
/// (SIGTERM) after a minute without requests. Files it keeps in /tmp last as long as its container.
/// </summary>
public sealed partial class Sandbox : Container
{
    public Sandbox()
    {
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromMinutes(1);
        EnableInternet = false;
        PingEndpoint = "/cgi-bin/info";
        EnvVars["SANDBOX"] = "1";
    }

    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        LogStarted(Logger, Context.Id.ToString());
        return Task.CompletedTask;
    }

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        LogStopped(Logger, Context.Id.ToString(), stop.ExitCode, stop.Reason);
        return Task.CompletedTask;
    }

    protected override Task OnErrorAsync(Exception error, CancellationToken cancellationToken)
    {
        LogFailed(Logger, Context.Id.ToString(), error.Message);
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "Sandbox {ObjectId} started")]
    private static partial void LogStarted(ILogger logger, string objectId);

    [LoggerMessage(2, LogLevel.Information, "Sandbox {ObjectId} stopped: exit code {ExitCode} ({Reason})")]
    private static partial void LogStopped(ILogger logger, string objectId, int exitCode, StopReason reason);

    [LoggerMessage(3, LogLevel.Warning, "Sandbox {ObjectId} could not start: {Message}")]
    private static partial void LogFailed(ILogger logger, string objectId, string message);
}
