using System.Diagnostics;

namespace Berth.Gateway;

/// <summary>
/// The gateway's traces: the activity source named <see cref="Name"/>. A request that finds its container running creates no
/// span of it; only a request that has to wait for its object to start the container gets a <c>berth.gateway.ensure_ready</c>
/// span, under ASP.NET Core's request span, when someone listens. The gateway's metrics are ASP.NET Core's own
/// (<c>http.server.request.duration</c>, with the gateway's error code as <c>error.type</c>) and, for pools, <c>berth.gateway.queue.depth</c>.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>The name of the gateway's activity source (and of the host's meter for the gateway): <c>Berth.Gateway</c>.</summary>
    public const string Name = "Berth.Gateway";

    /// <summary>
    /// The log category of the line the gateway writes for every request it forwarded to a container (class, object, method,
    /// path, container, status) at Information: <c>Berth.Gateway.Requests</c>. Berth's default levels keep it at Warning
    /// (one <c>IsEnabled</c> check per request); <c>berth dev --log-requests</c> or a <c>Logging:LogLevel</c> entry turns it on.
    /// </summary>
    public const string RequestsLogCategory = "Berth.Gateway.Requests";

    /// <summary>The tag ASP.NET Core's request metrics carry the gateway's error code in (<see cref="GatewayErrorCodes"/>).</summary>
    public const string ErrorTypeTag = "error.type";

    internal static readonly ActivitySource Source = new(Name);

    /// <summary>Starts the span of a wait for a container start, or returns <see langword="null"/> when nobody listens.</summary>
    internal static Activity? StartEnsureReady(string className)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        return Source.StartActivity("berth.gateway.ensure_ready")?.SetTag(Berth.Containers.ContainerTelemetry.ClassTag, className);
    }
}
