using Berth.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Egress;

internal static partial class Log
{
    [LoggerMessage(BerthEventIds.Egress + 1, LogLevel.Warning, "Egress denied for {Client}: {Host}:{Port} ({Kind}) by rule {Rule}", EventName = "EgressDenied")]
    public static partial void Denied(ILogger logger, string client, string host, int port, string kind, string rule);

    [LoggerMessage(BerthEventIds.Egress + 2, LogLevel.Debug, "Egress allowed for {Client}: {Host}:{Port} ({Kind}) by rule {Rule}", EventName = "EgressAllowed")]
    public static partial void Allowed(ILogger logger, string client, string host, int port, string kind, string rule);

    [LoggerMessage(BerthEventIds.Egress + 3, LogLevel.Warning, "Egress connection from unknown address {Address} closed", EventName = "EgressUnknownClient")]
    public static partial void UnknownClient(ILogger logger, string address);

    [LoggerMessage(BerthEventIds.Egress + 4, LogLevel.Information, "Egress connection for {Client} refused: {Reason}", EventName = "EgressRefused")]
    public static partial void Refused(ILogger logger, string client, string reason);

    [LoggerMessage(BerthEventIds.Egress + 5, LogLevel.Information, "Egress proxy listening on {Endpoint}", EventName = "EgressListening")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(BerthEventIds.Egress + 6, LogLevel.Warning, "Egress connection failed: {Message}", EventName = "EgressConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, string message);

    [LoggerMessage(BerthEventIds.Egress + 7, LogLevel.Information, "Egress firewall: {Command}", EventName = "EgressFirewallCommand")]
    public static partial void FirewallCommand(ILogger logger, string command);

    [LoggerMessage(BerthEventIds.Egress + 8, LogLevel.Information, "Egress connection for {Client} to {Host}:{Port} ({Kind}) closed idle: no byte either way for {IdleTimeout} (Berth:Egress:IdleTimeout)", EventName = "EgressClosedIdle")]
    public static partial void ClosedIdle(ILogger logger, string client, string host, int port, string kind, TimeSpan idleTimeout);
}
