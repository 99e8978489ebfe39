using System.Diagnostics;

namespace Berth.Containers;

/// <summary>
/// Container objects' traces: the activity source named <see cref="Name"/>, whose <c>berth.container.start</c> span covers a
/// container's start (create, start, wait for its ports). The metrics of container objects (<c>berth.container.*</c>) are
/// kept by the host from <see cref="IContainerStateObserver"/> changes, under a meter of the same name.
/// </summary>
public static class ContainerTelemetry
{
    /// <summary>The name of the activity source (and of the host's meter for container objects): <c>Berth.Containers</c>.</summary>
    public const string Name = "Berth.Containers";

    /// <summary>The tag naming the container class on every <c>berth.*</c> metric and span.</summary>
    public const string ClassTag = "berth.class";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>Starts the span of one container start, or returns <see langword="null"/> when nobody listens.</summary>
    internal static Activity? StartContainerStart(string className)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        return Source.StartActivity("berth.container.start")?.SetTag(ClassTag, className);
    }
}
