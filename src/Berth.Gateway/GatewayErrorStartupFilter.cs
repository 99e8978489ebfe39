using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Gateway;

/// <summary>
/// The last line of the gateway's error handling, added by <see cref="GatewayExtensions.AddBerthGateway"/> around the
/// app's whole pipeline: an exception no handler caught is logged once and answered <c>500 internal_error</c> as
/// JSON instead of Kestrel's empty 500. (The container path catches its own failures first; see
/// <see cref="ContainerForwarder.ForwardAsync(Microsoft.AspNetCore.Http.HttpContext, string, string, Berth.Containers.IContainer, int?)"/>.)
/// </summary>
internal sealed class GatewayErrorStartupFilter : IStartupFilter
{
    /// <summary>How long an HTTP/1.x request body left unread by its answer is read and dropped before its connection is cut: 5 s, Kestrel's own drain time.</summary>
    public static readonly TimeSpan UnreadBodyDrainTime = TimeSpan.FromSeconds(5);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<ContainerForwarder>();
        var stopping = app.ApplicationServices.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var time = app.ApplicationServices.GetService<TimeProvider>() ?? TimeProvider.System;
        app.Use(async (context, nextMiddleware) =>
        {
            try
            {
                await nextMiddleware(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client left.
                return;
            }
            catch (Exception ex)
            {
                Log.Unhandled(logger, context.Request.Method, context.Request.Path.Value, ex);
                await GatewayErrorWriter.WriteUnexpectedAsync(context);
            }

            // HTTP/2 and 3 reset an unread stream on their own; an upgraded connection (101) has no request body left.
            if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true }
                && context.Response.StatusCode != StatusCodes.Status101SwitchingProtocols
                && !HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
            {
                await DrainOrCutAsync(context, time, stopping);
            }
        });
        next(app);
    };

    /// <summary>
    /// Reads and drops what an answered HTTP/1.x request's body still owes, for at most <see cref="UnreadBodyDrainTime"/>,
    /// and cuts the connection when it does not end by then, or <see cref="GatewayErrorWriter.HostStoppingReadGrace"/> after
    /// the host begins to stop. Kestrel drains such a body itself, but nothing ends its drain once the host is stopping
    /// except the host's shutdown timeout: any answer given before the body was read (a 404, a 503 of a pool, a
    /// <c>host_stopping</c>) let one slow uploader hold every stop and restart for the whole timeout (hostile trials: 30 s
    /// and 60 s). A body already read to its end costs one non-blocking read here.
    /// </summary>
    private static async Task DrainOrCutAsync(HttpContext context, TimeProvider time, CancellationToken stopping)
    {
        var reader = context.Request.BodyReader;
        try
        {
            if (reader.TryRead(out var first))
            {
                reader.AdvanceTo(first.Buffer.End);
                if (first.IsCompleted)
                {
                    return;
                }
            }

            // The answer goes out whole before the wait: the client reads it while the rest of its body is dropped.
            await context.Response.CompleteAsync();
            using var drain = new CancellationTokenSource(UnreadBodyDrainTime, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(drain.Token, context.RequestAborted);
            using var onStop = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).CancelAfter(GatewayErrorWriter.HostStoppingReadGrace), drain);
            while (true)
            {
                var result = await reader.ReadAsync(linked.Token);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException or InvalidOperationException)
        {
            // Not ended in time (or over the body limit, or broken): Kestrel would wait for it; the connection goes.
            context.Abort();
        }
    }
}
