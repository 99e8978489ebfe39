using Berth.Containers;

namespace Berth.Samples.QuickStart;

/// <summary>One container per user: a small web server on port 8080, asleep after five idle minutes.</summary>
public sealed class MyContainer : Container
{
    public MyContainer()
    {
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromMinutes(5);
    }

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        // stop.ExitCode and stop.Reason: Sleep, Requested, Exited, OutOfMemory, Failed.
        return Task.CompletedTask;
    }
}
