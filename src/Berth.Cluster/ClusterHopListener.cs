using System.Net;
using System.Security.Authentication;
using Berth.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Cluster;

/// <summary>
/// The node's hop listener (<see cref="BerthClusterSettings.HopUrl"/>): a second Kestrel server on the hop port, HTTPS with
/// the node's certificate, that requires a client certificate of a node (<see cref="ClusterPeerRole.Client"/>) and serves the same application as the
/// public server. It wraps the host's <see cref="IServer"/>, because endpoints given to Kestrel itself would replace the
/// URLs the user configured for the public gateway (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) instead of adding to them.
/// </summary>
internal sealed class ClusterHopListener : IServer
{
    private readonly IServer _public;
    private readonly KestrelServer _hop;
    private readonly IPEndPoint _address;

    public ClusterHopListener(IServer publicServer, BerthClusterSettings settings, IServiceProvider services)
    {
        _public = publicServer;
        var tls = settings.Tls!;
        var url = settings.HopUrl!;
        var logger = services.GetRequiredService<ILogger<ClusterHopListener>>();
        var kestrel = new KestrelServerOptions { ApplicationServices = services, AddServerHeader = false };
        var address = settings.AdvertiseAddress ?? IPAddress.IPv6Any;
        kestrel.Listen(address, url.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = tls.Certificate,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            // The CA alone decides (the machine store's verdict and the peer's name are not used).
            ClientCertificateValidation = (certificate, chain, _) => tls.IsTrusted(certificate, chain, ClusterPeerRole.Client, logger, "hop listener"),
            CheckCertificateRevocation = false,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        }));
        _address = new IPEndPoint(address, url.Port);
        _hop = new KestrelServer(Options.Create(kestrel), services.GetRequiredService<IConnectionListenerFactory>(), services.GetRequiredService<ILoggerFactory>());
    }

    /// <summary>The public server's features: its addresses are the public gateway's (the hop URL is recorded on its own).</summary>
    public IFeatureCollection Features => _public.Features;

    /// <summary>Starts the public server, then the hop listener.</summary>
    /// <exception cref="BerthStartupException">The hop port cannot be bound: one line naming it and <c>Berth:Cluster:HopUrl</c>.</exception>
    public async Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        await _public.StartAsync(application, cancellationToken);
        try
        {
            await _hop.StartAsync(application, cancellationToken);
        }
        catch (IOException ex)
        {
            // Kestrel's bind failure ("Failed to bind to address ..."); a taken port is an AddressInUseException inside it.
            throw new BerthStartupException(Message(_address, ex.InnerException is AddressInUseException ? "it is in use" : ex.Message.ReplaceLineEndings(" ")), ex);
        }
    }

    /// <summary>The line a node whose hop listener cannot bind <paramref name="endpoint"/> fails with.</summary>
    internal static string Message(IPEndPoint endpoint, string reason) =>
        $"Berth cannot listen on its hop port {endpoint.Port} at {endpoint.Address} ({reason}). Set {BerthClusterSettings.HopUrlKey} "
        + $"(environment variable {BerthClusterSettings.HopUrlKey.Replace(":", "__", StringComparison.Ordinal)}) to a URL with a free port.";

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _hop.StopAsync(cancellationToken);
        await _public.StopAsync(cancellationToken);
    }

    public void Dispose()
    {
        _hop.Dispose();
        _public.Dispose();
    }

    /// <summary>Wraps the host's registered <see cref="IServer"/> (Kestrel) with the hop listener.</summary>
    /// <exception cref="InvalidOperationException">No server is registered yet (a host without ASP.NET Core's web server).</exception>
    public static void Register(IServiceCollection services, BerthClusterSettings settings)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException($"{BerthClusterSettings.HopUrlKey} needs ASP.NET Core's Kestrel server, registered before AddBerth (WebApplication.CreateBuilder registers it).");
        services.Remove(registered);
        services.AddSingleton<IServer>(sp => new ClusterHopListener(Create(sp, registered), settings, sp));
    }

    private static IServer Create(IServiceProvider services, ServiceDescriptor descriptor) => (IServer)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
