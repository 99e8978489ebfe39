using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.Hosting;

/// <summary>
/// When the host starts: records a version for every class whose image or config changed since its current version
/// (trigger <c>startup</c>). A class's first version is current at once; a changed one is rolled out once the host has
/// started (the rollout coordinator needs the silo), or made current directly when no <see cref="IRolloutCoordinator"/> is registered.
/// </summary>
internal sealed class ClassVersionStartup(
    ClassDeployer deployer,
    BerthAppConfig config,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<ClassVersionStartup> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _rollouts = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var pending = new List<ClassVersion>();
        foreach (var container in config.Containers)
        {
            try
            {
                if (await deployer.RecordStartupAsync(container, cancellationToken) is { First: false } changed)
                {
                    pending.Add(changed.Version);
                }
            }
            catch (ContainerRuntimeException ex)
            {
                // The image warm-up already said why; requests for the class answer with the reason.
                Log.StartupVersionFailed(logger, container.ClassName, ex.Message);
            }
        }

        if (pending.Count == 0)
        {
            return;
        }

        if (services.GetService<IRolloutCoordinator>() is null)
        {
            foreach (var version in pending)
            {
                await deployer.RollOutAsync(version.ClassName, version.Number, 100, "startup", cancellationToken);
            }

            return;
        }

        lifetime.ApplicationStarted.Register(() => _rollouts = RollOutAsync(pending, _stopping.Token));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _rollouts.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RollOutAsync(List<ClassVersion> pending, CancellationToken cancellationToken)
    {
        foreach (var version in pending)
        {
            try
            {
                await deployer.RollOutAsync(version.ClassName, version.Number, 100, "startup", cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.StartupVersionFailed(logger, version.ClassName, ex.Message);
            }
        }
    }
}
