using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Berth.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Berth.Docker;

public sealed partial class DockerContainerRuntime
{
    private const int StreamBufferSize = 81920;

    /// <inheritdoc />
    public async Task<int> ExecAsync(string containerId, ExecSpec spec, ExecStreams streams, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(streams);
        var parameters = new ContainerExecCreateParameters
        {
            Cmd = spec.Command.ToList(),
            Env = spec.Environment?.Select(kv => $"{kv.Key}={kv.Value}").ToList()!,
            WorkingDir = spec.WorkingDirectory!,
            User = spec.User!,
            AttachStdin = streams.Stdin is not null,
            AttachStdout = true,
            AttachStderr = true,
        };
        var exec = await CallAsync((c, ct) => c.Exec.CreateContainerExecAsync(containerId, parameters, ct), Subject.Container, containerId, cancellationToken);
        using var stream = await CallAsync((c, ct) => c.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), ct), Subject.Container, containerId, cancellationToken);

        var stdin = streams.Stdin is { } input ? PumpStdinAsync(stream, input, cancellationToken) : Task.CompletedTask;
        await CallAsync((_, ct) => CopyOutputAsync(stream, streams.Stdout, streams.Stderr, ct), Subject.Container, containerId, cancellationToken);
        await stdin;

        // The output can end a moment before the engine records the exit code.
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            var inspect = await CallAsync((c, ct) => c.Exec.InspectContainerExecAsync(exec.ID, ct), Subject.Container, containerId, cancellationToken);
            if (!inspect.Running && inspect.ExitCode is { } exitCode)
            {
                return (int)exitCode; // Exit codes are 0..255 on Linux; the engine reports them as a 64-bit number.
            }

            await Task.Delay(delay, _timeProvider, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 200));
        }
    }

    private static async Task PumpStdinAsync(MultiplexedStream stream, Stream input, CancellationToken cancellationToken)
    {
        try
        {
            await stream.CopyFromAsync(input, cancellationToken);
            stream.CloseWrite();
        }
        catch (IOException)
        {
            // The process exited without reading all its input; its exit code says the rest.
        }
    }

    private static async Task<bool> CopyOutputAsync(MultiplexedStream stream, Stream? stdout, Stream? stderr, CancellationToken cancellationToken)
    {
        var buffer = new byte[StreamBufferSize];
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken);
            if (read.EOF)
            {
                return true;
            }

            var target = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
            if (target is not null)
            {
                await target.WriteAsync(buffer.AsMemory(0, read.Count), cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LogLine> GetLogsAsync(string containerId, LogOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var parameters = new ContainerLogsParameters
        {
            ShowStdout = true,
            ShowStderr = true,
            Follow = options.Follow,
            Timestamps = options.Timestamps,
            Tail = options.Tail?.ToString(CultureInfo.InvariantCulture) ?? "all",
            Since = options.Since is { } since
                ? (since.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)
                : null,
        };
        using var stream = await CallAsync((c, ct) => c.Containers.GetContainerLogsAsync(containerId, parameters, ct), Subject.Container, containerId, cancellationToken);
        var stdout = new LineSplitter(LogStream.Stdout, options.Timestamps);
        var stderr = new LineSplitter(LogStream.Stderr, options.Timestamps);
        var buffer = new byte[StreamBufferSize];
        var lines = new List<LogLine>();
        while (true)
        {
            var read = await CallAsync((_, ct) => stream.ReadOutputAsync(buffer, 0, buffer.Length, ct), Subject.Container, containerId, cancellationToken);
            if (read.EOF)
            {
                break;
            }

            var splitter = read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout;
            splitter.Add(buffer.AsSpan(0, read.Count), lines);
            foreach (var line in lines)
            {
                yield return line;
            }

            lines.Clear();
        }

        stdout.Flush(lines);
        stderr.Flush(lines);
        foreach (var line in lines)
        {
            yield return line;
        }
    }

    /// <summary>
    /// Cuts one stream's frames into lines and parses the engine's timestamp prefix (when <paramref name="timestamps"/>). A line
    /// longer than <see cref="MaxLineChars"/> keeps its end, after '…' (and its timestamp): a container's output must not decide
    /// how much memory the host holds per line (at most twice the limit while the line arrives), nor hide its last words
    /// behind one long line, as keeping the line's start did.
    /// </summary>
    internal sealed class LineSplitter(LogStream stream, bool timestamps = true)
    {
        /// <summary>The most characters of a line kept (64 Ki, its end; the timestamp prefix apart).</summary>
        internal const int MaxLineChars = 64 * 1024;

        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly StringBuilder _pending = new();
        private char[] _chars = new char[1024];
        // The line's timestamp prefix ("<time> "), kept once its start was dropped; null while nothing was.
        private string? _prefix;

        public void Add(ReadOnlySpan<byte> bytes, List<LogLine> lines)
        {
            var needed = _decoder.GetCharCount(bytes, flush: false);
            if (_chars.Length < needed)
            {
                _chars = new char[needed];
            }

            var count = _decoder.GetChars(bytes, _chars, flush: false);
            foreach (var c in _chars.AsSpan(0, count))
            {
                if (c == '\n')
                {
                    lines.Add(Parse(TakeLine()));
                }
                else
                {
                    _pending.Append(c);
                    if (_pending.Length >= 2 * MaxLineChars)
                    {
                        DropStart();
                    }
                }
            }
        }

        public void Flush(List<LogLine> lines)
        {
            if (_pending.Length > 0)
            {
                lines.Add(Parse(TakeLine()));
            }
        }

        // Once per 64 Ki characters of an over-long line, not per character: the buffer holds at most twice the limit.
        private void DropStart()
        {
            if (_prefix is null)
            {
                var head = _pending.ToString(0, Math.Min(64, _pending.Length));
                var space = head.IndexOf(' ', StringComparison.Ordinal);
                _prefix = timestamps && space > 0 && TryParseTimestamp(head[..space], out _) ? head[..(space + 1)] : "";
            }

            _pending.Remove(0, _pending.Length - MaxLineChars);
        }

        private string TakeLine()
        {
            if (_pending.Length > MaxLineChars)
            {
                DropStart();
            }

            var line = _prefix is null ? _pending.ToString() : string.Concat(_prefix, "…", _pending.ToString());
            _pending.Clear();
            _prefix = null;
            return line;
        }

        private LogLine Parse(string raw)
        {
            raw = raw.TrimEnd('\r');
            if (!timestamps)
            {
                return new LogLine(stream, raw, null);
            }

            var space = raw.IndexOf(' ', StringComparison.Ordinal);
            var prefix = space > 0 ? raw[..space] : raw;
            return TryParseTimestamp(prefix, out var timestamp)
                ? new LogLine(stream, space > 0 ? raw[(space + 1)..] : "", timestamp)
                : new LogLine(stream, raw, null);
        }

        /// <summary>Parses RFC 3339 with nanoseconds, which .NET only reads to seven fractional digits.</summary>
        private static bool TryParseTimestamp(string text, out DateTimeOffset timestamp)
        {
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0)
            {
                var end = dot + 1;
                while (end < text.Length && char.IsAsciiDigit(text[end]))
                {
                    end++;
                }

                text = string.Concat(text.AsSpan(0, Math.Min(end, dot + 8)), text.AsSpan(end));
            }

            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out timestamp)
                && text.Length >= 20 && text[4] == '-';
        }
    }

    /// <inheritdoc />
    public async Task<ContainerStats> GetStatsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var sample = new LastValue<ContainerStatsResponse>();
        // Not one-shot: the engine then takes two samples, so the previous CPU reading is filled in.
        var parameters = new ContainerStatsParameters { Stream = false, OneShot = false };
        await CallAsync((c, ct) => c.Containers.GetContainerStatsAsync(containerId, parameters, sample, ct), Subject.Container, containerId, cancellationToken);
        var s = sample.Value ?? throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"The Docker engine returned no stats for container '{containerId}'.");

        var cpuTotal = s.CPUStats?.CPUUsage?.TotalUsage ?? 0;
        var cpuDelta = (double)cpuTotal - (s.PreCPUStats?.CPUUsage?.TotalUsage ?? 0);
        var systemDelta = (double)(s.CPUStats?.SystemUsage ?? 0) - (s.PreCPUStats?.SystemUsage ?? 0);
        var onlineCpus = s.CPUStats?.OnlineCPUs ?? (uint)(s.CPUStats?.CPUUsage?.PercpuUsage?.Count ?? 1);
        var cpuPercent = cpuDelta > 0 && systemDelta > 0 ? cpuDelta / systemDelta * onlineCpus * 100 : 0;

        // As docker's CLI: usage less the inactive page cache (cgroup v1 and v2 names).
        var memory = s.MemoryStats;
        var stats = memory?.Stats ?? new Dictionary<string, ulong>();
        var cache = stats.TryGetValue("total_inactive_file", out var v1) ? v1 : stats.TryGetValue("inactive_file", out var v2) ? v2 : 0;
        var usage = memory?.Usage ?? 0;

        var networks = s.Networks?.Values ?? [];
        return new ContainerStats(
            cpuTotal,
            cpuPercent,
            usage > cache ? usage - cache : usage,
            memory?.Limit ?? 0,
            networks.Aggregate(0UL, (sum, n) => sum + n.RxBytes),
            networks.Aggregate(0UL, (sum, n) => sum + n.TxBytes),
            new DateTimeOffset(DateTime.SpecifyKind(s.Read, DateTimeKind.Utc)));
    }

    /// <summary>Keeps the last reported value, synchronously (unlike <see cref="Progress{T}"/>, which posts).</summary>
    private sealed class LastValue<T> : IProgress<T>
    {
        public T? Value { get; private set; }

        public void Report(T value) => Value = value;
    }
}
