using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Bounds of live logs (<c>GET /_berth/admin/logs</c>, <c>berth tail</c>): the platform's in-memory log ring and its followers.
/// Bound from <c>Berth:Logs</c>; validated at start.
/// </summary>
public sealed class LiveLogOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Berth:Logs";

    /// <summary>Most lines <c>tail</c> may ask for.</summary>
    public const int MaxTail = 10_000;

    /// <summary>Most platform log records the ring keeps; the oldest is dropped first.</summary>
    /// <value>Default: 2,000. Allowed: 10–100,000.</value>
    public int BufferRecords { get; set; } = 2_000;

    /// <summary>
    /// Most bytes the ring's records may take (estimated: two bytes per character of text plus 128 bytes per record); the oldest
    /// is dropped first. A single message is cut to <see cref="MaxMessageChars"/> characters.
    /// </summary>
    /// <value>Default: 4,194,304 (4 MiB). Allowed: 64 KiB–1 GiB.</value>
    public long BufferBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>Longest message text kept in a record, in characters (a longer one is cut and ends with <c>…</c>).</summary>
    /// <value>Default: 8,192. Allowed: 256–1,048,576.</value>
    public int MaxMessageChars { get; set; } = 8_192;

    /// <summary>Most live followers (<c>follow=true</c> requests of <c>/_berth/admin/logs</c>) at once; one more is answered 429.</summary>
    /// <value>Default: 32. Allowed: 1–10,000.</value>
    public int MaxFollowers { get; set; } = 32;

    /// <summary>
    /// Records waiting to be sent to one follower. When a follower reads slower than records come, the oldest waiting records are
    /// dropped and the follower gets a <c>LiveLogRecordsDropped</c> record saying how many: logging and the host never wait for it.
    /// </summary>
    /// <value>Default: 1,000. Allowed: 16–100,000.</value>
    public int FollowerQueue { get; set; } = 1_000;

    /// <summary>Time between SSE heartbeat comments (<c>: heartbeat</c>), so that proxies keep an idle stream open; also how often a follower looks for new containers the engine lists.</summary>
    /// <value>Default: 15 s. Allowed: 1 s–5 min.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
}

internal sealed class LiveLogOptionsValidator : IValidateOptions<LiveLogOptions>
{
    public ValidateOptionsResult Validate(string? name, LiveLogOptions options)
    {
        var failures = new List<string>();
        if (options.BufferRecords is < 10 or > 100_000)
        {
            failures.Add($"Berth:Logs:BufferRecords: {options.BufferRecords} is not allowed; allowed: 10–100000 records.");
        }

        if (options.BufferBytes is < 64 * 1024 or > 1024L * 1024 * 1024)
        {
            failures.Add($"Berth:Logs:BufferBytes: {options.BufferBytes} is not allowed; allowed: 65536–1073741824 bytes.");
        }

        if (options.MaxMessageChars is < 256 or > 1024 * 1024)
        {
            failures.Add($"Berth:Logs:MaxMessageChars: {options.MaxMessageChars} is not allowed; allowed: 256–1048576 characters.");
        }

        if (options.MaxFollowers is < 1 or > 10_000)
        {
            failures.Add($"Berth:Logs:MaxFollowers: {options.MaxFollowers} is not allowed; allowed: 1–10000 followers.");
        }

        if (options.FollowerQueue is < 16 or > 100_000)
        {
            failures.Add($"Berth:Logs:FollowerQueue: {options.FollowerQueue} is not allowed; allowed: 16–100000 records.");
        }

        if (options.HeartbeatInterval < TimeSpan.FromSeconds(1) || options.HeartbeatInterval > TimeSpan.FromMinutes(5))
        {
            failures.Add($"Berth:Logs:HeartbeatInterval: {options.HeartbeatInterval} is not allowed; allowed: 00:00:01–00:05:00.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
