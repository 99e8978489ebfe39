using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Berth.Objects;
using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Lifecycle;

/// <summary>Hooks as they ran, in order, across all objects of a silo.</summary>
public sealed class HookLog
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public void Add(string entry) => _entries.Enqueue(entry);
}

/// <summary>A container class whose hooks write to <see cref="HookLog"/>; its start hook also logs through <see cref="Container.Logger"/>.</summary>
public sealed partial class Web : Container
{
    private readonly HookLog _log;

    public Web(HookLog log)
    {
        _log = log;
        DefaultPort = 8080;
        SleepAfter = TimeSpan.FromSeconds(10);
    }

    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        _log.Add("start");
        // Like the demo's container class: the message names the object, not the class.
        HookStarting(Logger, Context.Id.ToString());
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "Web hook: starting for object {ObjectId}", EventName = "WebHookStarting")]
    private static partial void HookStarting(ILogger logger, string objectId);

    protected override Task OnStopAsync(ContainerStopInfo stop, CancellationToken cancellationToken)
    {
        _log.Add($"stop:{stop.Reason}:{stop.ExitCode}");
        return Task.CompletedTask;
    }

    protected override Task OnErrorAsync(Exception error, CancellationToken cancellationToken)
    {
        _log.Add($"error:{(error as ContainerStartException)?.Error}");
        return Task.CompletedTask;
    }

    protected override Task OnActivityExpiredAsync(CancellationToken cancellationToken)
    {
        _log.Add("expired");
        return base.OnActivityExpiredAsync(cancellationToken);
    }
}

/// <summary>An in-process silo with the fake runtime, the fake probe and a fake clock: lifecycle tests without Docker.</summary>
public sealed class LifecycleSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _dataDirectory;
    private bool _ownsDirectory;

    private LifecycleSilo(IHost host, string dataDirectory, FakeContainerRuntime runtime, FakeTimeProvider time)
    {
        _host = host;
        _dataDirectory = dataDirectory;
        Runtime = runtime;
        Time = time;
    }

    public FakeContainerRuntime Runtime { get; }

    public FakeTimeProvider Time { get; }

    public HookLog Hooks => _host.Services.GetRequiredService<HookLog>();

    public string DataDirectory => _dataDirectory;

    public IServiceProvider Services => _host.Services;

    public ContainerLeaseRegistry Leases => _host.Services.GetRequiredService<ContainerLeaseRegistry>();

    public IContainer Get(string name) =>
        _host.Services.GetRequiredKeyedService<DurableObjectNamespace<IContainer>>(nameof(Web)).GetByName(name);

    internal IContainerLifecycle Lifecycle(IContainer container) => container.AsReference<IContainerLifecycle>();

    public static async Task<LifecycleSilo> StartAsync(Action<ContainerOptions>? configure = null, int maxInstances = 20,
        FakeContainerRuntime? runtime = null, FakeTimeProvider? time = null, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    {
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        runtime ??= new FakeContainerRuntime(time);
        var ownsDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "berth-lifecycle-tests", Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<HookLog>();
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSingleton<IContainerRuntime>(runtime);
        builder.Services.AddSingleton<IContainerProbe>(new FakeContainerProbe(runtime));
        builder.Services.AddBerthContainers(options =>
        {
            options.AppName = "unit";
            options.NodeId = "n1";
            options.NodeName = "node-a";
            options.PortReadyTimeout = TimeSpan.FromSeconds(90);
            options.InstanceStartTimeout = TimeSpan.FromSeconds(30);
            options.PollInterval = TimeSpan.FromMilliseconds(100);
            configure?.Invoke(options);
        });
        builder.Services.AddContainer<Web>(options =>
        {
            options.Image = "berth/web:1";
            options.MaxInstances = maxInstances;
        });
        services?.Invoke(builder.Services);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddDurableObjects(options => options.DataDirectory = dataDirectory));
        var host = builder.Build();
        await host.StartAsync();
        return new LifecycleSilo(host, dataDirectory, runtime, time) { _ownsDirectory = ownsDirectory };
    }

    /// <summary>Advances the fake clock in steps until <paramref name="task"/> completes (or the clock ran <paramref name="limit"/>).</summary>
    public async Task<T> DriveAsync<T>(Task<T> task, TimeSpan limit, TimeSpan? step = null)
    {
        await DriveAsync((Task)task, limit, step);
        return await task;
    }

    /// <inheritdoc cref="DriveAsync{T}"/>
    public async Task DriveAsync(Task task, TimeSpan limit, TimeSpan? step = null)
    {
        var by = step ?? TimeSpan.FromMilliseconds(100);
        var end = Time.GetUtcNow() + limit;
        var realLimit = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!task.IsCompleted && Time.GetUtcNow() < end && DateTime.UtcNow < realLimit)
        {
            await Task.WhenAny(task, Task.Delay(5));
            if (!task.IsCompleted)
            {
                await AdvanceAsync(by);
            }
        }

        await Task.WhenAny(task, Task.Delay(2000));
        Assert.True(task.IsCompleted, $"Not done after {limit} on the fake clock.");
    }

    /// <summary>
    /// Advances the fake clock on a thread of its own, bounded by 60 s of real time: timer callbacks run inside
    /// <see cref="FakeTimeProvider.Advance(TimeSpan)"/>, and one that never returns fails the test instead of hanging the run.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Time.Advance(by);
                done.TrySetResult();
            }
            catch (Exception error)
            {
                done.TrySetException(error);
            }
        }) { IsBackground = true, Name = "fake clock" };
        thread.Start();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>Waits (real time, bounded) until <paramref name="condition"/> holds, advancing the fake clock a little each turn.</summary>
    public async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? advance = null)
    {
        var realLimit = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < realLimit, $"Timed out waiting for: {what}");
            await Task.Delay(20);
            if (advance is { } by)
            {
                Time.Advance(by);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (_ownsDirectory && Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private static int FreePort() => BerthTestHost.FreePort();
}
