using System.Runtime.CompilerServices;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting.Tests;

/// <summary>A minimal app with <c>MapBerthAdmin</c> (and so live logs) on Kestrel at 127.0.0.1, over a given runtime whose log streams are counted.</summary>
public sealed class LogsTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _directory;

    private LogsTestHost(WebApplication app, TempDirectory directory, CountingExec exec, Uri address)
    {
        _app = app;
        _directory = directory;
        Exec = exec;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", "live-logs-test-token-0123456789");
    }

    /// <summary>The engine's log streams as the endpoints see them, counted.</summary>
    public CountingExec Exec { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LogsTestHost> StartAsync(IContainerRuntime runtime, string appName, string nodeId, Action<LiveLogOptions>? configure = null)
    {
        var directory = new TempDirectory();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = directory.Path });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        var exec = new CountingExec(runtime);
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton<IContainerExecOperations>(exec);
        builder.Services.Configure<ContainerOptions>(o =>
        {
            o.AppName = appName;
            o.NodeId = nodeId;
        });
        builder.Services.Configure<LiveLogOptions>(o => configure?.Invoke(o));
        builder.Services.AddBerthConfig(BerthConfigFile.Parse(
            $$"""{ "name": "{{appName}}", "containers": [ { "class_name": "Sandbox", "image": "sandbox:1" }, { "class_name": "Api", "image": "api:1" } ] }""",
            directory.Path));
        builder.Services.AddBerthAdmin(o => o.Token = "live-logs-test-token-0123456789");
        var app = builder.Build();
        app.MapBerthAdmin();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LogsTestHost(app, directory, exec, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>Passes log streams through to a runtime and counts the open ones.</summary>
public sealed class CountingExec(IContainerExecOperations inner) : IContainerExecOperations
{
    private int _open;

    public int OpenStreams => Volatile.Read(ref _open);

    public Task<int> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default) =>
        inner.ExecAsync(containerId, spec, streams, cancellationToken);

    public async IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _open);
        try
        {
            await foreach (var line in inner.GetLogsAsync(containerId, options, cancellationToken))
            {
                yield return line;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default) => inner.GetStatsAsync(containerId, cancellationToken);
}
