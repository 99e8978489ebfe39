using System.Globalization;
using Berth.Containers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway;

/// <summary>Writes the gateway's JSON errors (<see cref="GatewayError"/>); see docs/errors.md.</summary>
internal static class GatewayErrorWriter
{
    /// <summary>
    /// Answers a failed start. <paramref name="retryAfter"/> (a crash loop's remaining backoff) becomes <c>Retry-After</c> in
    /// whole seconds, rounded up (RFC 9110 §10.2.3); without it the errors worth retrying say 5 s.
    /// </summary>
    public static Task WriteReadyErrorAsync(HttpContext context, ContainerReadyError error, string message, TimeSpan? retryAfter = null)
    {
        var status = error switch
        {
            ContainerReadyError.ImageNotFound => StatusCodes.Status500InternalServerError,
            ContainerReadyError.ExitedDuringStart => StatusCodes.Status502BadGateway,
            _ => StatusCodes.Status503ServiceUnavailable,
        };
        var retry = error is ContainerReadyError.CapacityExceeded or ContainerReadyError.EngineUnavailable or ContainerReadyError.CrashLoop;
        if (!ShowsContainerOutput(context))
        {
            message = ContainerOutputText.WithoutOutput(message);
        }

        return WriteAsync(context, status, GatewayErrorCodes.ForReadyError(error), message, retry, retryAfter);
    }

    // Looked up per error, not per request: failures are rare.
    private static bool ShowsContainerOutput(HttpContext context) =>
        context.RequestServices?.GetService<IOptions<GatewayOptions>>()?.Value.ContainerOutputInErrors != false;

    public static Task WriteUpstreamAsync(HttpContext context, ForwarderError error, string className, string objectId)
    {
        var (status, message) = error switch
        {
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, $"Container {className} {objectId} did not answer in time."),
            // It did answer, but not in HTTP/1.1 the gateway can forward (docs/errors.md lists what is refused).
            ForwarderError.ResponseHeaders => (StatusCodes.Status502BadGateway, $"Container {className} {objectId} answered with an invalid response head (status line or headers); the host's log names what was wrong."),
            ForwarderError.ResponseBodyDestination => (StatusCodes.Status502BadGateway, $"Container {className} {objectId} sent a response body that broke off or was invalid (framing, chunk sizes) before any of it reached the client."),
            _ => (StatusCodes.Status502BadGateway, $"Container {className} {objectId} closed the connection or crashed before it answered ({error})."),
        };
        return WriteAsync(context, status, GatewayErrorCodes.ForUpstream(error), message);
    }

    /// <summary>502 <c>node_unreachable</c>, with Retry-After: the hosting node may be restarting, or its objects moving to another node.</summary>
    public static Task WriteNodeUnreachableAsync(HttpContext context, string node, string message) =>
        WriteAsync(context, StatusCodes.Status502BadGateway, GatewayErrorCodes.NodeUnreachable, message, retryAfter: true);

    /// <summary>How long a stopping host leaves a <c>host_stopping</c> answer to be read before it cuts a connection whose client still owes a body: 1 s.</summary>
    public static readonly TimeSpan HostStoppingReadGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// 503 <c>host_stopping</c> to a request that waited for its container when the host began to stop. Retry-After is the
    /// usual 5 s: a restarting host (a <c>berth dev</c> watch restart, a deploy's restart) takes its requests again within
    /// seconds, and behind a load balancer another node takes the retry at once; a longer wait would only delay the client.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="waitedFor">What the request waited for, as the message names it ("container Api 1f3a…").</param>
    /// <remarks>
    /// With <c>Connection: close</c>, the host being about to go away. A request with a body (never read: it waited before
    /// its forward) then has its connection aborted once the answer is sent: Kestrel would otherwise wait for the rest of
    /// the body, and during a stop nothing ends that wait but the host's shutdown timeout, so one slow uploader held every
    /// stop and restart for it (hostile trial: 30 s). The abort comes <see cref="HostStoppingReadGrace"/> after the answer (or
    /// as soon as the client closes): aborted at once, the connection's unread body bytes made the kernel reset it before the
    /// client had read the 503.
    /// </remarks>
    public static async Task WriteHostStoppingAsync(HttpContext context, string waitedFor)
    {
        context.Response.Headers.Connection = "close";
        await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, GatewayErrorCodes.HostStopping,
            $"The host began to stop while the request waited for {waitedFor} to be ready; nothing was sent to it. Retry: a restarting host takes requests again within seconds.",
            retryAfter: true);
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true } && !context.RequestAborted.IsCancellationRequested)
        {
            await context.Response.CompleteAsync();
            var time = context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
            try
            {
                await Task.Delay(HostStoppingReadGrace, time, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client closed first: nothing left to cut.
            }

            context.Abort();
        }
    }

    public static Task WriteBodyTooLargeAsync(HttpContext context, long? limit) =>
        WriteAsync(context, StatusCodes.Status413PayloadTooLarge, GatewayErrorCodes.BodyTooLarge,
            string.Create(CultureInfo.InvariantCulture, $"The request body is larger than this route's limit of {limit} bytes (the route's own limit, else the class's MaxRequestBodySize, else Berth:Gateway:MaxRequestBodySize)."));

    public static Task WriteBadTargetAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, GatewayErrorCodes.BadRequestTarget,
            "The request target is in absolute form (scheme://host/path) with an escaped byte, a dot segment or a backslash in its path, which the gateway does not forward; send the path in origin form (/path).");

    public static Task WriteUnexpectedAsync(HttpContext context)
    {
        if (context.Response.HasStarted)
        {
            // Too late for a status: end the response so the client sees it broke instead of a truncated success.
            context.Abort();
            return Task.CompletedTask;
        }

        return WriteAsync(context, StatusCodes.Status500InternalServerError, GatewayErrorCodes.InternalError,
            "The gateway failed unexpectedly while handling this request; the host's log has the details.");
    }

    public static async Task WriteAsync(HttpContext context, int status, string code, string message, bool retryAfter = false, TimeSpan? retryAfterTime = null)
    {
        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        // Drop whatever a failed forward left (the container's headers, YARP's bare status), but not the gateway's own
        // Connection: close for a body it would not read (no forwarder copies a container's Connection header).
        var connection = context.Response.Headers.Connection;
        context.Response.Clear();
        if (connection.Count > 0)
        {
            context.Response.Headers.Connection = connection;
        }

        context.Response.StatusCode = status;
        // Only on errors, and only when request metrics are listened to (the feature exists then): the code becomes error.type.
        context.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(GatewayTelemetry.ErrorTypeTag, code));
        if (retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfterTime is { } wait
                ? Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture)
                : "5";
        }

        try
        {
            await context.Response.WriteAsJsonAsync(new GatewayError(code, message), GatewayJsonContext.Default.GatewayError, cancellationToken: context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left while the error was written.
        }
    }
}
