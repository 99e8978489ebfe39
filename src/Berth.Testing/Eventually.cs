namespace Berth.Testing;

/// <summary>
/// Polls a condition until it holds or a timeout passes, measured on a <see cref="TimeProvider"/> (the system clock
/// by default). With a fake clock the test advances time itself; each poll waits <see cref="PollInterval"/> on it.
/// </summary>
public static class Eventually
{
    /// <summary>Time between two polls: 100 milliseconds.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The bound when a caller gives none: 60 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> accepts its value, and returns that value.</summary>
    /// <param name="probe">Reads the current value.</param>
    /// <param name="done">Whether the value is the one waited for.</param>
    /// <param name="what">What is waited for, for the failure message.</param>
    /// <param name="within">The bound; <see cref="DefaultTimeout"/> when <see langword="null"/>.</param>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="TimeoutException">The bound passed; the message names <paramref name="what"/> and the last value.</exception>
    public static async Task<T> ValueAsync<T>(
        Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? within = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        time ??= TimeProvider.System;
        var deadline = time.GetUtcNow() + (within ?? DefaultTimeout);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (time.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Timed out after {(within ?? DefaultTimeout).TotalSeconds:0.#} s waiting for {what}; last value: {value}");
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it returns <see langword="true"/>.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="condition">The condition to wait for.</param>
    /// <param name="timeout">The bound.</param>
    /// <param name="what">What is waited for, for the failure message.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="TimeoutException">The condition still did not hold after <paramref name="timeout"/>.</exception>
    public static Task EventuallyAsync(
        this TimeProvider time, Func<Task<bool>> condition, TimeSpan timeout, string what = "the condition", CancellationToken cancellationToken = default) =>
        ValueAsync(condition, ok => ok, what, timeout, time, cancellationToken);
}
