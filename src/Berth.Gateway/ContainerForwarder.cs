using System.Net;
using Berth.Containers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// Forwards a request to a container object's container. The warm path reads the node's lease
/// table and forwards straight away; only a cold or sleeping container costs a call to its object.
/// Every error it answers is a <see cref="GatewayError"/> with a code from <see cref="GatewayErrorCodes"/>.
/// </summary>
public sealed partial class ContainerForwarder : IDisposable
{
    /// <summary>
    /// Prefix of the request headers that belong to Berth. Any incoming header with this prefix (any case) is dropped
    /// before the request reaches a container; nothing a client sends chooses internal routing.
    /// </summary>
    public const string ReservedHeaderPrefix = "X-Berth-";

    /// <summary>
    /// The header that once chose the container port. It no longer does (a client could steer its container with it):
    /// like every <see cref="ReservedHeaderPrefix"/> header it is dropped; use <see cref="ContainerRequestExtensions.SwitchPort"/>.
    /// </summary>
    public const string TargetPortHeader = "X-Berth-Container-Port";

    private const int MaxAttempts = 3;

    // A refused connection to a container its engine still reports running: its process is exiting (sockets closed,
    // not yet reaped) or restarting its listener. Nothing was sent, so the request waits this long per attempt and tries again.
    private static readonly TimeSpan RefusedRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Largest over-limit body (bytes, 64 KiB) read and dropped before the 413, so the answer is not lost to a reset.</summary>
    private const long DrainBeforeRejectBytes = 64 * 1024;

    private readonly IHttpForwarder _forwarder;
    private readonly ContainerLeaseRegistry _leases;
    private readonly HttpMessageInvoker _invoker;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ForwarderRequestConfig _upgradeConfig;
    private readonly long? _maxRequestBodySize;
    private readonly ILogger<ContainerForwarder> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly RemoteActivityTracker? _remoteActivity;
    private readonly INodeHop? _hop;
    private readonly HttpMessageInvoker? _tlsHopInvoker;
    private readonly Http1.Http1Forwarder? _http1;
    private readonly ILogger _requests = NullLogger.Instance;
    private readonly TimeSpan _activityTimeout;

    /// <summary>
    /// Creates the forwarder. It sends with its own connections: pooled for requests without a body, full duplex for
    /// requests with one (<see cref="DuplexHttp1Handler"/>), with the same connection settings as the object's own client.
    /// </summary>
    /// <param name="forwarder">YARP's forwarder.</param>
    /// <param name="leases">This node's container leases.</param>
    /// <param name="options">The gateway's options.</param>
    /// <param name="logger">The forwarder's logger.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="remoteActivity">
    /// Counts requests forwarded to containers other nodes host (in a cluster); <see langword="null"/>: they are not reported,
    /// and such a container may sleep under a request longer than its <c>sleepAfter</c>.
    /// </param>
    /// <param name="hop">
    /// The hop through the hosting node's gateway (<c>Berth:Cluster:Forwarding</c> = <c>node</c>); <see langword="null"/>
    /// (the default): a container another node runs is reached at its own address.
    /// </param>
    /// <param name="loggerFactory">Makes the <see cref="GatewayTelemetry.RequestsLogCategory"/> logger; <see langword="null"/>: no line per request.</param>
    public ContainerForwarder(IHttpForwarder forwarder, ContainerLeaseRegistry leases,
        IOptions<GatewayOptions> options, ILogger<ContainerForwarder> logger, TimeProvider timeProvider, RemoteActivityTracker? remoteActivity = null, INodeHop? hop = null,
        ILoggerFactory? loggerFactory = null)
        : this(forwarder, leases, new HttpMessageInvoker(new DuplexHttp1Handler(DuplexHttp1Handler.CreatePooledInvoker(options.Value), options.Value.RequestActivityTimeout, timeProvider)), options, logger, timeProvider, remoteActivity, hop)
    {
        _requests = loggerFactory?.CreateLogger(GatewayTelemetry.RequestsLogCategory) ?? NullLogger.Instance;
    }

    internal ContainerForwarder(IHttpForwarder forwarder, ContainerLeaseRegistry leases, HttpMessageInvoker invoker,
        IOptions<GatewayOptions> options, ILogger<ContainerForwarder> logger, TimeProvider timeProvider, RemoteActivityTracker? remoteActivity = null, INodeHop? hop = null)
    {
        _remoteActivity = remoteActivity;
        _hop = hop;
        // The container invoker speaks plain HTTP/1.1 on its own sockets; an https gateway gets .NET's handler (TLS, no full
        // duplex on HTTP/1.1) behind the same bounds on an upgrade's answer.
        _tlsHopInvoker = hop is null ? null : new HttpMessageInvoker(DuplexHttp1Handler.CreateTlsHop(hop.ClientTls, options.Value.RequestActivityTimeout, timeProvider));
        _timeProvider = timeProvider;
        _forwarder = forwarder;
        _leases = leases;
        _invoker = invoker;
        _logger = logger;
        // HTTP/1.1 to containers, as they speak it (YARP's default asks for HTTP/2 and lets the handler fall back).
        _requestConfig = new ForwarderRequestConfig { ActivityTimeout = options.Value.RequestActivityTimeout, Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        _upgradeConfig = new ForwarderRequestConfig { ActivityTimeout = options.Value.UpgradedActivityTimeout, Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        _maxRequestBodySize = options.Value.MaxRequestBodySize;
        _activityTimeout = options.Value.RequestActivityTimeout;
        _http1 = options.Value.Forwarder == ContainerForwarderKind.Http1 && options.Value.MaxConnectionsPerContainer is null
            ? new Http1.Http1Forwarder(timeProvider, options.Value, logger)
            : null;
    }

    /// <summary>The HTTP/1.1 forwarder of requests without a body; <see langword="null"/> when YARP forwards everything (tests).</summary>
    internal Http1.Http1Forwarder? Http1Forwarder => _http1;

    /// <summary>Closes the pooled connections to containers.</summary>
    public void Dispose()
    {
        _http1?.Dispose();
        _invoker.Dispose();
        _tlsHopInvoker?.Dispose();
    }

    /// <summary>
    /// Forwards the request to the container owned by <paramref name="container"/>, starting it if needed, and writes the response.
    /// Never throws for a failure on the container path: every failure is answered as a JSON <see cref="GatewayError"/>
    /// (or, once the response has started, by aborting it) and logged once.
    /// </summary>
    /// <param name="context">The request to forward.</param>
    /// <param name="className">The container class name.</param>
    /// <param name="objectId">The object's ID.</param>
    /// <param name="container">The object.</param>
    /// <param name="port">The container port; <see langword="null"/> for the one chosen with <see cref="ContainerRequestExtensions.SwitchPort"/>, else the default port.</param>
    public Task ForwardAsync(HttpContext context, string className, string objectId, IContainer container, int? port = null) =>
        ForwardAsync(context, className, objectId, objectName: null, new ContainerObjectSource(container, null, default), port, classMaxRequestBodySize: null);

    /// <summary>
    /// As the public overload, with the object's name for the logs (<see langword="null"/>: its ID) and the class's own body
    /// limit (<see cref="ContainerClassOptions.MaxRequestBodySize"/>), if any.
    /// </summary>
    internal Task ForwardAsync(HttpContext context, string className, string objectId, string? objectName, IContainer container, int? port, long? classMaxRequestBodySize) =>
        ForwardAsync(context, className, objectId, objectName, new ContainerObjectSource(container, null, default), port, classMaxRequestBodySize);

    /// <summary>As above, with the object's reference made only when the object is called (a container not running, a failed forward).</summary>
    internal async Task ForwardAsync(HttpContext context, string className, string objectId, string? objectName, ContainerObjectSource container, int? port, long? classMaxRequestBodySize)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = new Target(className, objectId, objectName ?? objectId);
        try
        {
            await ForwardCoreAsync(context, target, container, port ?? context.Features.Get<ContainerTargetPort>()?.Port ?? 0, classMaxRequestBodySize);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception ex)
        {
            Log.ForwardUnexpected(_logger, className, target.Name, ex);
            await GatewayErrorWriter.WriteUnexpectedAsync(context);
        }
    }

    /// <summary>The object a request goes to: its class and ID (leases are found by them) and the name the logs show.</summary>
    private readonly record struct Target(string ClassName, string ObjectId, string Name);

    // Pooled: a warm request's state machine is reused rather than allocated (the caller's Task is the request's only one).
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ForwardCoreAsync(HttpContext context, Target target, ContainerObjectSource source, int targetPort, long? classLimit)
    {
        IContainer? container = null;
        var (className, objectId, objectName) = target;
        if (HasAmbiguousFraming(context))
        {
            Log.AmbiguousFramingRefused(_logger, className, objectName, context.Request.Method, context.Request.Path.Value);
            await RejectAmbiguousFramingAsync(context);
            return;
        }

        if (IsUnsafeAbsoluteTarget(context))
        {
            await GatewayErrorWriter.WriteBadTargetAsync(context);
            return;
        }

        if (!ApplyBodyLimit(context, classLimit, out var limit))
        {
            await RejectDeclaredBodyAsync(context, limit);
            return;
        }

        IgnoreUpgradeUnlessForwarded(context);
        for (var attempt = 1; ; attempt++)
        {
            var (lease, endpoint, resolved) = await ResolveAsync(context, target, source, container, targetPort);
            container = resolved;
            if (endpoint is null)
            {
                return;
            }

            // A container another node hosts, with forwarding through that node: its gateway forwards (and counts) the request,
            // unless this request is already such a hop (the object moved since): then straight to the container.
            if (lease is null && _hop is not null && endpoint.NodeId is { Length: > 0 } hostNode && hostNode != _hop.NodeId
                && !IsHop(context, _hop))
            {
                await HopAsync(context, target, hostNode, limit);
                return;
            }

            // A container another node hosts: counted here and reported to its object, which cannot see the request.
            var remote = lease is null && _remoteActivity is not null && container is not null
                ? _remoteActivity.Enter(className, objectId, container)
                : default;
            ForwarderError error;
            Exception? exception;
            try
            {
                var upgrade = IsUpgrade(context);
                var prefix = endpoint.GetDestinationPrefix(targetPort == 0 ? endpoint.DefaultPort : targetPort);
                // A verified hop carries the client's address and scheme from the node it entered; anything else is forwarded as is
                // (one header lookup, and only when a hop header is there at all).
                var hopReceived = _hop is not null && context.Request.Headers.ContainsKey(NodeHopSigner.HeaderName) && HopTransformer.IsValidHop(context, _hop, out _);
                if (_http1 is not null && !upgrade && !hopReceived && Http1.Http1Forwarder.CanForward(context))
                {
                    (error, exception) = await _http1.SendAsync(context, prefix, endpoint.Host, targetPort == 0 ? endpoint.DefaultPort : targetPort, endpoint.ContainerId, _activityTimeout);
                }
                else
                {
                    var transformer = hopReceived ? (HttpTransformer)HopReceivedTransformer.Instance : ContainerTransformer.Instance;
                    error = await _forwarder.SendAsync(context, prefix, _invoker, upgrade ? _upgradeConfig : _requestConfig, transformer);
                    exception = error == ForwarderError.None ? null : context.Features.Get<IForwarderErrorFeature>()?.Exception;
                    if (error == ForwarderError.Request && DuplexHttp1Handler.IsInvalidHead(exception))
                    {
                        // YARP names every failure of its client's send Request; a head the duplex handler refused is the
                        // container's answer being wrong, answered as Berth's HTTP/1.1 forwarder answers it (docs/errors.md).
                        error = ForwarderError.ResponseHeaders;
                    }
                    else if (error is ForwarderError.Request or ForwarderError.UpgradeRequestDestination && DuplexHttp1Handler.IsUnansweredUpgrade(exception))
                    {
                        error = ForwarderError.RequestTimedOut;
                    }
                }
            }
            finally
            {
                lease?.Exit();
                remote.Exit();
            }

            if (error == ForwarderError.None)
            {
                Log.Forwarded(_requests, className, objectName, context.Request.Method, context.Request.Path.Value, endpoint.ContainerId, context.Response.StatusCode);
                return;
            }

            if (!GatewayErrorCodes.IsDestinationError(error) || context.RequestAborted.IsCancellationRequested)
            {
                // The client's own failure (its body, its cancellation): the container is not suspect.
                Log.ClientError(_logger, className, objectName, error, exception?.Message);
                await WriteClientErrorAsync(context, error, exception, limit);
                return;
            }

            // The container may have died before its object noticed: have the object look now rather than wait for
            // its monitor, so this request (when nothing of it was sent) or the next one reaches a fresh container.
            // Made here, in this flow, so the call carries the object's name (as every call to the object does).
            container = source.Get();
            var alive = await Lifecycle(container).CheckAliveAsync(endpoint.ContainerId, context.RequestAborted);
            if (attempt < MaxAttempts && error == ForwarderError.Request && NothingSent(exception) && !context.Response.HasStarted)
            {
                if (alive)
                {
                    await Task.Delay(RefusedRetryDelay * attempt, _timeProvider, context.RequestAborted);
                    alive = await Lifecycle(container).CheckAliveAsync(endpoint.ContainerId, context.RequestAborted);
                }

                // Debug: the request is sent again and usually answered; a warning per refused connection was noise (new-user trial).
                Log.ForwardRetry(_logger, className, objectName, endpoint.ContainerId, alive, exception?.Message);
                // YARP may send the same context again: the response has not started and the body was not read.
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Features.Set<IForwarderErrorFeature>(null);
                continue;
            }

            Log.ForwardError(_logger, className, objectName, endpoint.ContainerId, error, exception?.Message);
            if (!context.Response.HasStarted)
            {
                await GatewayErrorWriter.WriteUpstreamAsync(context, error, className, objectId);
            }

            return;
        }
    }

    /// <summary>
    /// Whether YARP forwards the request as an upgrade, which gets <see cref="GatewayOptions.UpgradedActivityTimeout"/>: a
    /// CONNECT (HTTP/2's WebSocket included) or an HTTP/1.1 upgrade to <c>websocket</c>. Kestrel calls any request with
    /// <c>Connection: upgrade</c> upgradable, but YARP drops any other <c>Upgrade</c> (h2c, a made-up one) and sends a plain
    /// request; taken for an upgrade, it would get a day's idle time instead of <see cref="GatewayOptions.RequestActivityTimeout"/>
    /// (hostile trial: a GET with <c>Connection: upgrade</c> held its connection past 150 s on an endpoint that never answered).
    /// </summary>
    /// <remarks>
    /// The handshake is a GET (RFC 6455 §4.1); YARP would send any other method with those headers as a GET handshake (a
    /// DELETE or an OPTIONS reached the container as a GET: hostile trial), so <see cref="IgnoreUpgradeUnlessForwarded"/>
    /// makes such a request the plain request it is.
    /// </remarks>
    internal static bool IsUpgrade(HttpContext context)
    {
        if (HttpMethods.IsConnect(context.Request.Method))
        {
            return true;
        }

        if (!HttpMethods.IsGet(context.Request.Method) || context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest != true)
        {
            return false;
        }

        foreach (var value in context.Request.Headers.Upgrade)
        {
            if (value is not null && value.Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Takes away the upgrade of a request Kestrel calls upgradable (<c>Connection: upgrade</c>) that is not forwarded as one
    /// (<see cref="IsUpgrade"/>: a non-GET, or an <c>Upgrade</c> other than <c>websocket</c>), so both forwarders send it as
    /// the plain request it is, with its own method and without the <c>Upgrade</c> header (RFC 9110 §7.8: a server may
    /// ignore an upgrade). One feature lookup for the usual request.
    /// </summary>
    internal static void IgnoreUpgradeUnlessForwarded(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } && !IsUpgrade(context))
        {
            context.Features.Set<IHttpUpgradeFeature>(null);
        }
    }

    /// <summary>
    /// Whether the request target is in absolute form (RFC 9112 §3.2.2) with a path Kestrel left as sent: an escaped byte
    /// (Kestrel decodes even <c>%2F</c> there), a dot segment (not removed there, as it is from an origin-form path) or a
    /// backslash. Forwarded, such a path would leave the route's prefix in the container (<see cref="GatewayErrorCodes.BadRequestTarget"/>).
    /// The usual origin-form target costs one character comparison.
    /// </summary>
    internal static bool IsUnsafeAbsoluteTarget(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] == '/' || raw == "*")
        {
            return false;
        }

        var scheme = raw.IndexOf("://", StringComparison.Ordinal);
        var pathStart = scheme < 0 ? -1 : raw.IndexOf('/', scheme + 3);
        if (pathStart < 0)
        {
            return false;
        }

        var query = raw.IndexOf('?', pathStart);
        var path = query < 0 ? raw.AsSpan(pathStart) : raw.AsSpan(pathStart, query - pathStart);
        if (path.IndexOfAny('%', '\\') >= 0)
        {
            return true;
        }

        foreach (var range in path.Split('/'))
        {
            if (path[range] is "." or "..")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the request is a hop another node of the cluster signed; a client's forged hop header is ignored (and dropped).</summary>
    private bool IsHop(HttpContext context, INodeHop hop)
    {
        if (HopTransformer.IsValidHop(context, hop, out _))
        {
            return true;
        }

        if (context.Request.Headers.ContainsKey(NodeHopSigner.HeaderName))
        {
            Log.HopHeaderRejected(_logger, context.Request.Method, context.Request.Path.Value);
        }

        return false;
    }

    /// <summary>Forwards the request to the gateway of the node that hosts the container, with this node's signed hop header.</summary>
    private async Task HopAsync(HttpContext context, Target target, string hostNode, long? limit)
    {
        var hop = _hop!;
        var prefix = await hop.GetGatewayPrefixAsync(hostNode, context.RequestAborted);
        if (prefix is null)
        {
            Log.HopFailed(_logger, target.ClassName, target.Name, hostNode, "(none recorded)", "no gateway URL");
            await GatewayErrorWriter.WriteNodeUnreachableAsync(context, hostNode,
                $"Container {target.ClassName} {target.ObjectId} runs on node {hostNode}, which has recorded no gateway URL this node can use (Berth:Cluster:AdvertiseUrl; with TLS between nodes, an https Berth:Cluster:HopUrl); try again once it has started.");
            return;
        }

        var upgrade = IsUpgrade(context);
        var invoker = prefix.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
            ? _tlsHopInvoker!
            : _invoker;
        var error = await _forwarder.SendAsync(context, prefix, invoker, upgrade ? _upgradeConfig : _requestConfig, new HopTransformer(hop, hostNode));
        if (error == ForwarderError.None)
        {
            return;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (!GatewayErrorCodes.IsDestinationError(error) || context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientError(_logger, target.ClassName, target.Name, error, exception?.Message);
            await WriteClientErrorAsync(context, error, exception, limit);
            return;
        }

        Log.HopFailed(_logger, target.ClassName, target.Name, hostNode, prefix, $"{error} {exception?.Message}");
        hop.Forget(hostNode);
        if (!context.Response.HasStarted)
        {
            await GatewayErrorWriter.WriteNodeUnreachableAsync(context, hostNode,
                // The node's internal address stays in the log: clients learn the node, not the cluster's network.
                $"Container {target.ClassName} {target.ObjectId} runs on node {hostNode}, whose gateway could not be reached or failed before it answered ({error}).");
        }
    }

    /// <summary>Enters the lease of a running container, asking its object to start it first when none is open.</summary>
    private async ValueTask<(ContainerLease? Lease, ContainerEndpoint? Endpoint, IContainer? Container)> ResolveAsync(
        HttpContext context, Target target, ContainerObjectSource source, IContainer? container, int targetPort)
    {
        var (className, objectId, objectName) = target;
        var lease = _leases.Find(className, objectId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (lease is not null && lease.TryEnter(out var entered))
            {
                if (targetPort == 0 || targetPort == entered.DefaultPort || entered.Ports.Contains(targetPort))
                {
                    return (lease, entered, container);
                }

                // Entered, but the container does not yet listen on the requested port.
                lease.Exit();
            }

            using var activity = GatewayTelemetry.StartEnsureReady(className);
            container = source.Get();
            ContainerReadyResult ready;
            // The wait (a start, its port wait, a rollout's replacement queued before it) ends when the host begins to stop,
            // not only when the client goes: Kestrel's graceful stop waits for this request, and the start it waits for can
            // take PortReadyTimeout. The start itself is the object's and goes on (a stopping host stops its container).
            using (var waiting = HostStopping.Link(context.RequestServices, context.RequestAborted))
            {
                try
                {
                    ready = _remoteActivity is { } remote
                        ? await container.EnsureReadyFromNodeAsync(targetPort, remote.NodeId, waiting.Token)
                        : await container.EnsureReadyAsync(targetPort, waiting.Token);
                }
                catch (OperationCanceledException) when (waiting.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
                {
                    Log.WaitEndedHostStopping(_logger, className, objectName, "start");
                    await GatewayErrorWriter.WriteHostStoppingAsync(context, $"container {className} {objectId}");
                    return (null, null, container);
                }
            }

            if (ready.Endpoint is null)
            {
                await GatewayErrorWriter.WriteReadyErrorAsync(context, ready.Error, ready.Message ?? "The container could not be started.", ready.RetryAfter);
                return (null, null, container);
            }

            lease = _leases.Find(className, objectId);
            if (lease is null)
            {
                // The object lives on another node: no local lease; the request is counted by the remote activity tracker.
                return (null, ready.Endpoint, container);
            }
        }

        await GatewayErrorWriter.WriteReadyErrorAsync(context, ContainerReadyError.StartFailed, $"Container {className} {objectId} kept going to sleep while the request waited; try again.");
        return (null, null, container);
    }

    /// <summary>
    /// Sets the request's body limit (the route's <see cref="IRequestSizeLimitMetadata"/>, else <see cref="GatewayOptions.MaxRequestBodySize"/>)
    /// on Kestrel's feature, so Kestrel's own default is never the limit that fires. False when the declared length is already over it.
    /// </summary>
    // The route's own limit, else the class's, else the gateway's.
    private bool ApplyBodyLimit(HttpContext context, long? classLimit, out long? limit)
    {
        limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } route ? route.MaxRequestBodySize : classLimit ?? _maxRequestBodySize;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return limit is not { } max || context.Request.ContentLength is not { } length || length <= max;
    }

    /// <summary>
    /// Answers <c>413 body_too_large</c> to a body whose declared length is over the limit. A small body (up to
    /// <see cref="DrainBeforeRejectBytes"/>) is read and dropped first (<see cref="DrainBeforeRejectAsync"/>). A larger
    /// one is not read; the answer says <c>Connection: close</c> (RFC 9110 §15.5.14).
    /// </summary>
    private static async Task RejectDeclaredBodyAsync(HttpContext context, long? limit)
    {
        if (context.Request.ContentLength is { } length && length <= DrainBeforeRejectBytes)
        {
            await DrainBeforeRejectAsync(context, length);
        }
        else
        {
            context.Response.Headers.Connection = "close";
        }

        await GatewayErrorWriter.WriteBodyTooLargeAsync(context, limit);
    }

    /// <summary>
    /// The name Kestrel gives a request's <c>Content-Length</c> when the request also has <c>Transfer-Encoding</c>: it frames
    /// the body by the chunks, removes <c>Content-Length</c> and adds its value as this header (Kestrel 10,
    /// <c>Http1MessageBody.For</c>), which the app cannot tell from a client's own header of that name.
    /// </summary>
    internal const string KestrelContentLengthHeader = "X-Content-Length";

    /// <summary>
    /// Whether the request came with both <c>Content-Length</c> and <c>Transfer-Encoding</c>, the request-smuggling shape
    /// RFC 9112 §6.3 says ought to be handled as an error (<see cref="GatewayErrorCodes.BadRequestFraming"/>): a
    /// <c>Transfer-Encoding</c> with a <c>Content-Length</c> still there (a server that keeps both) or with
    /// <see cref="KestrelContentLengthHeader"/> (Kestrel's rename, or a client's own header of that name beside chunking:
    /// the two look alike, and both are refused). HTTP/2 and HTTP/3 have no <c>Transfer-Encoding</c>, so the usual request
    /// costs one known-header lookup.
    /// </summary>
    internal static bool HasAmbiguousFraming(HttpContext context)
    {
        var headers = context.Request.Headers;
        return headers.TransferEncoding.Count > 0 && (headers.ContentLength is not null || headers.ContainsKey(KestrelContentLengthHeader));
    }

    /// <summary>
    /// Answers <c>400 bad_request_framing</c> with <c>Connection: close</c> (RFC 9112 §6.1: a server that rejects such a
    /// request must close the connection after responding; Kestrel already closes it for a real <c>Content-Length</c>), after
    /// reading and dropping up to <see cref="DrainBeforeRejectBytes"/> of the chunked body.
    /// </summary>
    private static async Task RejectAmbiguousFramingAsync(HttpContext context)
    {
        context.Response.Headers.Connection = "close";
        await DrainBeforeRejectAsync(context, DrainBeforeRejectBytes);
        await GatewayErrorWriter.WriteAsync(context, StatusCodes.Status400BadRequest, GatewayErrorCodes.BadRequestFraming,
            "The request has both Content-Length and Transfer-Encoding (Kestrel reports the length as X-Content-Length), which " +
            "the gateway does not forward (RFC 9112 §6.3, request smuggling); send one of them. A chunked request may not carry " +
            "a header named X-Content-Length either.");
    }

    /// <summary>
    /// Reads and drops a request body of at most <paramref name="max"/> bytes before an error answer: a socket closed with
    /// unread bytes is reset by the kernel, and the reset can overtake the answer so that the client sees only a broken
    /// connection (CI saw it). A body that is larger, breaks off or cannot be bounded is left, with <c>Connection: close</c>.
    /// </summary>
    private static async Task DrainBeforeRejectAsync(HttpContext context, long max)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = max;
        }
        else if (context.Request.ContentLength is not { } length || length > max)
        {
            context.Response.Headers.Connection = "close";
            return;
        }

        try
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException)
        {
            // Over the bound, or the client broke off its own body: answer anyway, the connection closes.
            context.Response.Headers.Connection = "close";
        }
    }

    private static Task WriteClientErrorAsync(HttpContext context, ForwarderError error, Exception? exception, long? limit)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested || error != ForwarderError.RequestBodyClient)
        {
            return Task.CompletedTask;
        }

        return IsBodyTooLarge(exception)
            ? GatewayErrorWriter.WriteBodyTooLargeAsync(context, limit)
            : GatewayErrorWriter.WriteAsync(context, StatusCodes.Status400BadRequest, GatewayErrorCodes.BadRequestBody,
                "The request body could not be read from the client: " + (ClientBodyReason(exception) ?? "it was malformed or ended early."));
    }

    /// <summary>
    /// Kestrel's own reason for a body it could not read ("Bad chunk size data.", "Unexpected end of request content.",
    /// the minimum data rate), not the wrappers' text ("One or more errors occurred. (…) (…)"); null when there is none.
    /// </summary>
    private static string? ClientBodyReason(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException bad)
            {
                return bad.Message;
            }

            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (ClientBodyReason(inner) is { } reason)
                    {
                        return reason;
                    }
                }
            }
        }

        return null;
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsBodyTooLarge))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the failure was in opening the connection, so no byte of the request reached the container.</summary>
    private static bool NothingSent(Exception? exception)
    {
        // The outermost HTTP failure decides: an inner "connection refused" may be a second try of a request already sent.
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException http)
            {
                return http.HttpRequestError == HttpRequestError.ConnectionError;
            }
        }

        return false;
    }

    // Fakes implement the lifecycle interface directly; Orleans references are cast.
    private static IContainerLifecycle Lifecycle(IContainer container) =>
        container as IContainerLifecycle ?? container.AsReference<IContainerLifecycle>();
}

/// <summary>The JSON body of an error the gateway answers itself.</summary>
/// <param name="Error">Machine-readable code from <see cref="GatewayErrorCodes"/>, for example <c>port_timeout</c>.</param>
/// <param name="Message">What happened and what to do about it.</param>
public sealed record GatewayError(string Error, string Message);

[System.Text.Json.Serialization.JsonSerializable(typeof(GatewayError))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class GatewayJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
