using Berth.Runtime;

namespace Berth.Containers;

/// <summary>
/// Sees every state change of every container object this node hosts: metering, metrics and the dashboard
/// build on it. Register implementations as singletons (<c>services.AddSingleton&lt;IContainerStateObserver, T&gt;()</c>);
/// every registered observer is called.
/// </summary>
/// <remarks>
/// Called synchronously inside the object's turn, in the order the changes happen, so an observer must not block
/// and must not call the object back: record the change (a field write, a channel write) and return. An exception
/// an observer throws is logged and swallowed; it never fails the container's start or stop.
/// </remarks>
public interface IContainerStateObserver
{
    /// <summary>Records one state change.</summary>
    /// <param name="change">What changed; the instance is immutable and may be kept.</param>
    void OnStateChanged(ContainerStateChange change);
}

/// <summary>One state change of one container object.</summary>
/// <param name="AppName">The app (<see cref="ContainerOptions.AppName"/>).</param>
/// <param name="NodeId">The node hosting the object (<see cref="ContainerOptions.NodeId"/>).</param>
/// <param name="ClassName">The container class.</param>
/// <param name="ObjectId">The object's ID (64 hex digits).</param>
/// <param name="ObjectName">The object's name, when it was reached by name.</param>
/// <param name="ContainerId">The engine's ID of the current or last container; <see langword="null"/> before the first create.</param>
/// <param name="Previous">The state before the change.</param>
/// <param name="State">The state after it.</param>
/// <param name="Reason">Why it changed (<see cref="ContainerObjectStatus.Reason"/>: <c>sleep</c>, <c>oom</c>, …).</param>
/// <param name="InstanceType">The running container's resources; <see langword="null"/> when no container was created yet.</param>
/// <param name="Version">The class version the container runs (issue 13), when versions are recorded.</param>
/// <param name="At">When the change happened (the object's <see cref="TimeProvider"/>).</param>
/// <param name="StartDuration">
/// On the change to <see cref="ContainerObjectState.Healthy"/> after a start: the time from the start's beginning (create, or a
/// warm-pool claim) to ready, the cold start a request saw. <see langword="null"/> on every other change.
/// </param>
/// <param name="EgressBytesOut">Bytes the container sent through the egress proxy so far (<see cref="ContainerObjectStatus.EgressBytesOut"/>).</param>
public sealed record ContainerStateChange(
    string AppName,
    string NodeId,
    string ClassName,
    string ObjectId,
    string? ObjectName,
    string? ContainerId,
    ContainerObjectState Previous,
    ContainerObjectState State,
    string? Reason,
    InstanceType? InstanceType,
    int? Version,
    DateTimeOffset At,
    TimeSpan? StartDuration,
    long EgressBytesOut);
