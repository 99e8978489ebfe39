namespace Berth.Hosting;

/// <summary>
/// Collapses bursts of change notifications per key (a container class) into one call of the action, made once no
/// further change came for the quiet period, timed on the given <see cref="TimeProvider"/>. Calls for one key never
/// overlap: when the quiet period ends during a call, one more call follows it (after another quiet period).
/// The action should not throw; an exception it throws is dropped.
/// </summary>
internal sealed class ChangeDebouncer(TimeSpan quiet, TimeProvider timeProvider, Func<string, CancellationToken, Task> action, CancellationToken stopping) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, State> _keys = new(StringComparer.Ordinal);

    /// <summary>Completes when no call is running (for tests and shutdown).</summary>
    public Task IdleAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll(_keys.Values.Select(s => s.Running).OfType<Task>());
        }
    }

    /// <summary>Records a change of <paramref name="key"/>: its call comes once no change came for the quiet period.</summary>
    public void Changed(string key)
    {
        lock (_gate)
        {
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            if (!_keys.TryGetValue(key, out var state))
            {
                _keys[key] = state = new State();
                state.Timer = timeProvider.CreateTimer(_ => Fire(key), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            state.Timer!.Change(quiet, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var state in _keys.Values)
            {
                state.Timer?.Dispose();
            }
        }
    }

    private void Fire(string key)
    {
        lock (_gate)
        {
            var state = _keys[key];
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            if (state.Running is { IsCompleted: false })
            {
                state.Again = true;
                return;
            }

            state.Running = RunAsync(key, state);
        }
    }

    private async Task RunAsync(string key, State state)
    {
        try
        {
            await action(key, stopping);
        }
        catch (Exception)
        {
            // The action reports its own failures; the next change calls it again.
        }
        finally
        {
            lock (_gate)
            {
                if (state.Again && !stopping.IsCancellationRequested)
                {
                    state.Again = false;
                    state.Timer!.Change(quiet, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    private sealed class State
    {
        public ITimer? Timer { get; set; }

        public Task? Running { get; set; }

        public bool Again { get; set; }
    }
}
