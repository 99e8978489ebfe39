using Berth.Diagnostics;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Gateway + 1, LogLevel.Warning, "{ClassName} {ObjectName}: forwarding to container {ContainerId} failed: {Error} {Detail}", EventName = "ForwardError")]
    public static partial void ForwardError(ILogger logger, string className, string objectName, string containerId, ForwarderError error, string? detail);

    [LoggerMessage(BerthEventIds.Gateway + 2, LogLevel.Debug, "{ClassName} {ObjectName}: the request ended on the client's side: {Error} {Detail}", EventName = "ForwardClientError")]
    public static partial void ClientError(ILogger logger, string className, string objectName, ForwarderError error, string? detail);

    [LoggerMessage(BerthEventIds.Gateway + 3, LogLevel.Debug, "{ClassName} {ObjectName}: container {ContainerId} refused the connection before the request reached it (still running: {StillRunning}); sending it again: {Detail}", EventName = "ForwardRetry")]
    public static partial void ForwardRetry(ILogger logger, string className, string objectName, string containerId, bool stillRunning, string? detail);

    [LoggerMessage(BerthEventIds.Gateway + 4, LogLevel.Error, "{ClassName} {ObjectName}: unexpected failure forwarding to its container", EventName = "ForwardUnexpected")]
    public static partial void ForwardUnexpected(ILogger logger, string className, string objectName, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 5, LogLevel.Error, "Unhandled failure answering {Method} {Path}", EventName = "GatewayUnhandled")]
    public static partial void Unhandled(ILogger logger, string method, string? path, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 6, LogLevel.Error, "The container name selector of route {Pattern} failed", EventName = "RouteSelectorFailed")]
    public static partial void SelectorFailed(ILogger logger, string pattern, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 9, LogLevel.Warning, "The container at {Address} answered more than it was asked (a response no request was sent for); its kept-alive connections are closed and none is reused for {Seconds} s", EventName = "ContainerAnsweredUnasked")]
    public static partial void ContainerAnsweredUnasked(ILogger logger, string address, double seconds);

    [LoggerMessage(BerthEventIds.Gateway + 8, LogLevel.Information, "{ClassName} {ObjectName}: {Method} {Path} → container {ContainerId}: {StatusCode}", EventName = "Forwarded")]
    public static partial void Forwarded(ILogger logger, string className, string objectName, string method, string? path, string containerId, int statusCode);

    [LoggerMessage(BerthEventIds.Gateway + 10, LogLevel.Information, "{ClassName} {ObjectName}: the host began to stop while a request waited for the container ({Waiting}); answered 503 host_stopping", EventName = "WaitEndedHostStopping")]
    public static partial void WaitEndedHostStopping(ILogger logger, string className, string objectName, string waiting);

    [LoggerMessage(BerthEventIds.Gateway + 11, LogLevel.Debug, "{ClassName} {ObjectName}: {Method} {Path} has both Content-Length and Transfer-Encoding (request smuggling's shape); answered 400 bad_request_framing", EventName = "AmbiguousFramingRefused")]
    public static partial void AmbiguousFramingRefused(ILogger logger, string className, string objectName, string method, string? path);

    // The hop through the hosting node's gateway (Berth:Cluster:Forwarding = node): 1370–1379.
    [LoggerMessage(BerthEventIds.Gateway + 70, LogLevel.Warning, "{ClassName} {ObjectName}: forwarding through node {Node}'s gateway {Gateway} failed: {Detail}", EventName = "HopFailed")]
    public static partial void HopFailed(ILogger logger, string className, string objectName, string node, string gateway, string detail);

    [LoggerMessage(BerthEventIds.Gateway + 71, LogLevel.Debug, "{Method} {Path}: a hop header that does not verify (forged, expired or another cluster's) was ignored and dropped", EventName = "HopHeaderRejected")]
    public static partial void HopHeaderRejected(ILogger logger, string method, string? path);
}

// The pools' messages (src/Berth.Gateway/Pools) take 1350–1369 of the gateway's range.
internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Gateway + 50, LogLevel.Information,
        "Pool {ClassName}: {From} → {To} instances (running {Ready}; in flight over the stable window {StableConcurrency:0.##}, over the panic window {PanicConcurrency:0.##}; wanted stable {StableWanted}, panic {PanicWanted}; target {TargetConcurrency} per instance; panic {Panic}; CPU {CpuPercent:0.#}% wanting {CpuWanted})",
        EventName = "PoolScaled")]
    public static partial void PoolScaled(ILogger logger, string className, int from, int to, int ready, double stableConcurrency, double panicConcurrency,
        int stableWanted, int panicWanted, int targetConcurrency, bool panic, double cpuPercent, int cpuWanted);

    [LoggerMessage(BerthEventIds.Gateway + 51, LogLevel.Warning, "Pool {ClassName}: instance {ObjectName} could not be started: {Error} {Detail}", EventName = "PoolStartFailed")]
    public static partial void PoolStartFailed(ILogger logger, string className, string objectName, Berth.Containers.ContainerReadyError error, string? detail);

    [LoggerMessage(BerthEventIds.Gateway + 52, LogLevel.Information, "Pool {ClassName}: stopping instance {ObjectName}, no longer in use and drained", EventName = "PoolStopping")]
    public static partial void PoolStopping(ILogger logger, string className, string objectName);

    [LoggerMessage(BerthEventIds.Gateway + 53, LogLevel.Warning, "Pool {ClassName}: stopping instance {ObjectName} failed", EventName = "PoolStopFailed")]
    public static partial void PoolStopFailed(ILogger logger, string className, string objectName, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 54, LogLevel.Warning, "Pool {ClassName}: a request was refused, the hold queue already holds its {Capacity} requests", EventName = "PoolQueueFull")]
    public static partial void PoolQueueFull(ILogger logger, string className, int capacity);

    [LoggerMessage(BerthEventIds.Gateway + 55, LogLevel.Warning, "Pool {ClassName}: a request waited its queue timeout of {Timeout} for an instance", EventName = "PoolQueueTimeout")]
    public static partial void PoolQueueTimeout(ILogger logger, string className, TimeSpan timeout);

    [LoggerMessage(BerthEventIds.Gateway + 56, LogLevel.Error, "Pool {ClassName}: the autoscaler's step failed", EventName = "PoolTickFailed")]
    public static partial void PoolTickFailed(ILogger logger, string className, Exception exception);
}
