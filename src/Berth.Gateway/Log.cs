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

    [LoggerMessage(BerthEventIds.Gateway + 3, LogLevel.Debug, "{ClassName} {ObjectName}: container {ContainerId} refused the connection before the request reached it (still running: {StillRunning}); sending it again", EventName = "ForwardRetry")]
    public static partial void ForwardRetry(ILogger logger, string className, string objectName, string containerId, bool stillRunning);

    [LoggerMessage(BerthEventIds.Gateway + 4, LogLevel.Error, "{ClassName} {ObjectName}: unexpected failure forwarding to its container", EventName = "ForwardUnexpected")]
    public static partial void ForwardUnexpected(ILogger logger, string className, string objectName, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 5, LogLevel.Error, "Unhandled failure answering {Method} {Path}", EventName = "GatewayUnhandled")]
    public static partial void Unhandled(ILogger logger, string method, string? path, Exception exception);

    [LoggerMessage(BerthEventIds.Gateway + 6, LogLevel.Error, "The container name selector of route {Pattern} failed", EventName = "RouteSelectorFailed")]
    public static partial void SelectorFailed(ILogger logger, string pattern, Exception exception);
}
