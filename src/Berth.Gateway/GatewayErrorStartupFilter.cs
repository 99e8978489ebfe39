using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
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
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger<ContainerForwarder>();
        app.Use(async (context, nextMiddleware) =>
        {
            try
            {
                await nextMiddleware(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client left.
            }
            catch (Exception ex)
            {
                Log.Unhandled(logger, context.Request.Method, context.Request.Path.Value, ex);
                await GatewayErrorWriter.WriteUnexpectedAsync(context);
            }
        });
        next(app);
    };
}
