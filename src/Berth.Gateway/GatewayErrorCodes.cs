using Berth.Containers;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// Every <c>error</c> code the gateway answers in its JSON body (<see cref="GatewayError"/>); docs/errors.md
/// describes each one, its status and what to do.
/// </summary>
public static class GatewayErrorCodes
{
    /// <summary>500: the class's image does not exist on the engine.</summary>
    public const string ImageNotFound = "image_not_found";

    /// <summary>503: the container started but did not listen on its port within the readiness timeout.</summary>
    public const string PortTimeout = "port_timeout";

    /// <summary>502: the container exited before it became ready.</summary>
    public const string ExitedDuringStart = "exited_during_start";

    /// <summary>503: the container engine could not be reached.</summary>
    public const string EngineUnavailable = "engine_unavailable";

    /// <summary>503: the class already runs its <c>max_instances</c> containers.</summary>
    public const string MaxInstances = "max_instances";

    /// <summary>503: the container keeps crashing right after it starts; starts are backed off.</summary>
    public const string CrashLoop = "crash_loop";

    /// <summary>503: any other start failure.</summary>
    public const string StartFailed = "start_failed";

    /// <summary>413: the request body is larger than the route's limit.</summary>
    public const string BodyTooLarge = "body_too_large";

    /// <summary>400: the client's request body could not be read (malformed chunking, early end).</summary>
    public const string BadRequestBody = "bad_request_body";

    /// <summary>
    /// 400: an absolute-form request target (<c>GET http://host/path</c>, RFC 9112 §3.2.2) whose path has an escaped byte,
    /// a dot segment or a backslash. Kestrel neither normalizes such a path nor keeps its escaping as it does for the
    /// usual origin form, so a route's prefix could be escaped (<c>/api/x%2F..%2F..%2Fsecret</c>).
    /// </summary>
    public const string BadRequestTarget = "bad_request_target";

    /// <summary>
    /// 400: the request has both <c>Content-Length</c> and <c>Transfer-Encoding</c> (RFC 9112 §6.3: request smuggling's shape),
    /// or a chunked body with an <c>X-Content-Length</c> header, which is how Kestrel hands such a request's length to the app.
    /// Nothing is forwarded and the connection is closed.
    /// </summary>
    public const string BadRequestFraming = "bad_request_framing";

    /// <summary>503: a pool had no running instance and its hold queue already held <c>max_queued_requests</c> requests.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>503: a pool had no instance ready within <c>queue_timeout</c> while the request waited.</summary>
    public const string QueueTimeout = "queue_timeout";

    /// <summary>
    /// 502: the container runs on another node and that node's gateway could not be reached (or recorded no URL), with
    /// <c>Berth:Cluster:Forwarding</c> = <c>node</c>; the message names the node.
    /// </summary>
    public const string NodeUnreachable = "node_unreachable";

    /// <summary>
    /// 503 (<c>Retry-After</c>): the host began to stop while the request waited for its container (a start, its port wait,
    /// a rollout's replacement, a pool instance); the wait ended so that the stop is not held. Nothing was sent to a container.
    /// </summary>
    public const string HostStopping = "host_stopping";

    /// <summary>500: an unexpected failure in the gateway; the host log has the details.</summary>
    public const string InternalError = "internal_error";

    /// <summary>Prefix of the codes for a failure between the gateway and the container (<c>upstream_request</c>, …).</summary>
    public const string UpstreamPrefix = "upstream_";

    // Built once: naming an upstream failure allocates nothing per request.
    private static readonly Dictionary<ForwarderError, string> Upstream =
        Enum.GetValues<ForwarderError>().ToDictionary(e => e, e => UpstreamPrefix + e.ToString().ToLowerInvariant());

    /// <summary>The forwarding failures that are the container's side (it refused, reset, timed out, answered garbage), each answered as an <c>upstream_*</c> code.</summary>
    public static IReadOnlyList<ForwarderError> DestinationErrors { get; } =
    [
        ForwarderError.Request,
        ForwarderError.RequestTimedOut,
        ForwarderError.ResponseHeaders,
        ForwarderError.RequestBodyDestination,
        ForwarderError.ResponseBodyDestination,
        ForwarderError.UpgradeRequestDestination,
        ForwarderError.UpgradeResponseDestination,
    ];

    /// <summary>Every code the gateway can answer.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        ImageNotFound, PortTimeout, ExitedDuringStart, EngineUnavailable, MaxInstances, CrashLoop, StartFailed,
        BodyTooLarge, BadRequestBody, BadRequestTarget, BadRequestFraming, InternalError,
        QueueFull, QueueTimeout, NodeUnreachable, HostStopping,
        .. DestinationErrors.Select(ForUpstream),
    ];

    /// <summary>The code of a container that could not be made ready.</summary>
    public static string ForReadyError(ContainerReadyError error) => error switch
    {
        ContainerReadyError.ImageNotFound => ImageNotFound,
        ContainerReadyError.PortTimeout => PortTimeout,
        ContainerReadyError.ExitedDuringStart => ExitedDuringStart,
        ContainerReadyError.EngineUnavailable => EngineUnavailable,
        ContainerReadyError.CapacityExceeded => MaxInstances,
        ContainerReadyError.CrashLoop => CrashLoop,
        _ => StartFailed,
    };

    /// <summary>The code of a forwarding failure (<c>upstream_</c> and the lower-case <see cref="ForwarderError"/> name).</summary>
    public static string ForUpstream(ForwarderError error) => Upstream[error];

    /// <summary>Whether a forwarding failure is the container's side rather than the client's own (its body, its cancellation).</summary>
    public static bool IsDestinationError(ForwarderError error) => error is
        ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders
        or ForwarderError.RequestBodyDestination or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeRequestDestination or ForwarderError.UpgradeResponseDestination;
}
