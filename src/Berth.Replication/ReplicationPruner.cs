using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Replication;

/// <summary>Prunes storage history older than the retention window every <see cref="ReplicationOptions.PruneInterval"/>.</summary>
internal sealed class ReplicationPruner(StorageReplicator replicator, IOptions<ReplicationOptions> options, TimeProvider timeProvider, ILogger<ReplicationPruner> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PruneInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var cutoff = timeProvider.GetUtcNow() - options.Value.Retention;
                var rows = await replicator.Store.PruneAsync(cutoff, stoppingToken);
                if (rows > 0)
                {
                    Log.Pruned(logger, cutoff, rows);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PruneFailed(logger, e, interval);
            }

            await Task.Delay(interval, timeProvider, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
