using System.Globalization;
using Berth.Containers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>
/// Forwards a request to a container object's container. The warm path reads the node's lease
/// table and forwards straight away; only a cold or sleeping container costs a call to its object.
/// </summary>
public sealed partial class ContainerForwarder
{
    /// <summary>Request header set by <see cref="ContainerRequestExtensions.SwitchPort"/>; removed before forwarding.</summary>
    public const string TargetPortHeader = "X-Berth-Container-Port";

    private const int MaxAttempts = 3;

    private readonly IHttpForwarder _forwarder;
    private readonly ContainerLeaseRegistry _leases;
    private readonly HttpMessageInvoker _invoker;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ForwarderRequestConfig _upgradeConfig;
    private readonly ILogger<ContainerForwarder> _logger;

    /// <summary>Creates the forwarder.</summary>
    public ContainerForwarder(IHttpForwarder forwarder, ContainerLeaseRegistry leases, ContainerHttpClient http,
        IOptions<GatewayOptions> options, ILogger<ContainerForwarder> logger)
    {
        _forwarder = forwarder;
        _leases = leases;
        _invoker = http.Invoker;
        _logger = logger;
        _requestConfig = new ForwarderRequestConfig { ActivityTimeout = options.Value.RequestActivityTimeout };
        _upgradeConfig = new ForwarderRequestConfig { ActivityTimeout = options.Value.UpgradedActivityTimeout };
    }

    /// <summary>Forwards the request to the container owned by <paramref name="container"/>, starting it if needed, and writes the response.</summary>
    public async Task ForwardAsync(HttpContext context, string className, string objectId, IContainer container, int? port = null)
    {
        var targetPort = port ?? TargetPortFromHeader(context.Request) ?? 0;
        var (lease, endpoint) = await ResolveAsync(context, className, objectId, container, targetPort);
        if (endpoint is null)
        {
            return;
        }

        ForwarderError error;
        try
        {
            var upgrade = context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true || context.Request.Method == HttpMethods.Connect;
            var prefix = endpoint.GetDestinationPrefix(targetPort == 0 ? endpoint.DefaultPort : targetPort);
            error = await _forwarder.SendAsync(context, prefix, _invoker, upgrade ? _upgradeConfig : _requestConfig, ContainerTransformer.Instance);
        }
        finally
        {
            lease?.Exit();
        }

        if (error == ForwarderError.None)
        {
            return;
        }

        LogForwardError(_logger, className, objectId, error, context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message);
        if (error == ForwarderError.RequestCanceled)
        {
            return;
        }

        // The container may have died before its object noticed: have the object look now rather than wait for
        // its monitor, so the next request starts a fresh container instead of reaching the dead one.
        await container.AsReference<IContainerLifecycle>().CheckAliveAsync(endpoint.ContainerId);
        if (!context.Response.HasStarted)
        {
            await WriteForwardErrorAsync(context, error, className, objectId);
        }
    }

    /// <summary>Enters the lease of a running container, asking its object to start it first when none is open.</summary>
    private async ValueTask<(ContainerLease? Lease, ContainerEndpoint? Endpoint)> ResolveAsync(
        HttpContext context, string className, string objectId, IContainer container, int targetPort)
    {
        var lease = _leases.Find(className, objectId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (lease is not null && lease.TryEnter(out var entered))
            {
                if (targetPort == 0 || targetPort == entered.DefaultPort || entered.Ports.Contains(targetPort))
                {
                    return (lease, entered);
                }

                // Entered, but the container does not yet listen on the requested port.
                lease.Exit();
            }

            var ready = await container.EnsureReadyAsync(targetPort, context.RequestAborted);
            if (ready.Endpoint is null)
            {
                await WriteErrorAsync(context, ready.Error, ready.Message ?? "The container could not be started.");
                return (null, null);
            }

            lease = _leases.Find(className, objectId);
            if (lease is null)
            {
                // The object lives on another node: forward without local activity tracking.
                return (null, ready.Endpoint);
            }
        }

        await WriteErrorAsync(context, ContainerReadyError.StartFailed, $"Container {className} {objectId} kept going to sleep while the request waited; try again.");
        return (null, null);
    }

    private static Task WriteForwardErrorAsync(HttpContext context, ForwarderError error, string className, string objectId)
    {
        var (status, message) = error switch
        {
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, $"Container {className} {objectId} did not answer in time."),
            _ => (StatusCodes.Status502BadGateway, $"Container {className} {objectId} closed the connection or crashed before it answered ({error})."),
        };
        return WriteJsonErrorAsync(context, status, "upstream_" + error.ToString().ToLowerInvariant(), message);
    }

    private static Task WriteErrorAsync(HttpContext context, ContainerReadyError error, string message)
    {
        var status = error switch
        {
            ContainerReadyError.ImageNotFound => StatusCodes.Status500InternalServerError,
            ContainerReadyError.ExitedDuringStart => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status503ServiceUnavailable,
        };
        if (error is ContainerReadyError.CapacityExceeded or ContainerReadyError.EngineUnavailable)
        {
            context.Response.Headers.RetryAfter = "5";
        }

        return WriteJsonErrorAsync(context, status, ErrorCode(error), message);
    }

    private static string ErrorCode(ContainerReadyError error) => error switch
    {
        ContainerReadyError.ImageNotFound => "image_not_found",
        ContainerReadyError.PortTimeout => "port_timeout",
        ContainerReadyError.ExitedDuringStart => "exited_during_start",
        ContainerReadyError.EngineUnavailable => "engine_unavailable",
        ContainerReadyError.CapacityExceeded => "max_instances",
        _ => "start_failed",
    };

    private static Task WriteJsonErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new GatewayError(code, message), GatewayJsonContext.Default.GatewayError, cancellationToken: context.RequestAborted);
    }

    private static int? TargetPortFromHeader(HttpRequest request) =>
        request.Headers.TryGetValue(TargetPortHeader, out var value) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;

    [LoggerMessage(1, LogLevel.Warning, "Forwarding to container {ClassName} {ObjectId} failed: {Error} {Detail}")]
    private static partial void LogForwardError(ILogger logger, string className, string objectId, ForwarderError error, string? detail);

    /// <summary>YARP's default transform (X-Forwarded-* added, Host replaced) minus Berth's own routing header.</summary>
    private sealed class ContainerTransformer : HttpTransformer
    {
        public static readonly ContainerTransformer Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await Default.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.Remove(TargetPortHeader);
        }
    }
}

/// <summary>The JSON body of an error the gateway answers itself.</summary>
/// <param name="Error">Machine-readable code, for example <c>port_timeout</c>.</param>
/// <param name="Message">What happened and what to do about it.</param>
public sealed record GatewayError(string Error, string Message);

[System.Text.Json.Serialization.JsonSerializable(typeof(GatewayError))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class GatewayJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
