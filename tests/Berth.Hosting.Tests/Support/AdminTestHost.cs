using Berth.Containers;
using Berth.Hosting;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests.Support;

/// <summary>A minimal app with <c>MapBerthAdmin</c> on a real Kestrel listener at 127.0.0.1 on a free port.</summary>
public sealed class AdminTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _directory;

    private AdminTestHost(WebApplication app, TempDirectory directory, FakeContainerRuntime runtime, Uri address)
    {
        _app = app;
        _directory = directory;
        Runtime = runtime;
        Address = address;
    }

    public const string AppName = "demo";

    public FakeContainerRuntime Runtime { get; }

    /// <summary>Base address, such as http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public string DataDirectory => Path.Combine(_directory.Path, "data");

    public string TokenFile => Path.Combine(DataDirectory, AdminOptions.TokenFileName);

    /// <param name="configure">Admin options.</param>
    /// <param name="services">More services.</param>
    /// <param name="map">More endpoints, mapped after <c>MapBerthAdmin</c> (such as <c>MapBerthDashboard</c>).</param>
    public static async Task<AdminTestHost> StartAsync(
        Action<AdminOptions>? configure = null, Action<IServiceCollection>? services = null, Action<WebApplication>? map = null)
    {
        var directory = new TempDirectory();
        var runtime = new FakeContainerRuntime();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = directory.Path });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IContainerRuntime>(runtime);
        builder.Services.Configure<ContainerOptions>(o =>
        {
            o.AppName = AppName;
            o.NodeId = FakeContainerRuntime.DefaultNodeId;
        });
        builder.Services.AddBerthConfig(BerthConfigFile.Parse(
            """{ "name": "demo", "containers": [ { "class_name": "Sandbox", "image": "sandbox:1" }, { "class_name": "Api", "image": "api:1" } ] }""",
            directory.Path));
        builder.Services.AddBerthAdmin(configure);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapBerthAdmin();
        map?.Invoke(app);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new AdminTestHost(app, directory, runtime, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }
}
