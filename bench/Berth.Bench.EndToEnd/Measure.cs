using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Berth.Bench.EndToEnd;

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);

    /// <summary>Percentile by linear interpolation between closest ranks.</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.OrderBy(v => v).ToArray();
        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    public static string F(double value, int decimals = 1) =>
        double.IsNaN(value) ? "n/a" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>median / p95 / max, in ms.</summary>
    public static string Summary(IReadOnlyList<double> ms) =>
        $"{F(Median(ms))} / {F(Percentile(ms, 95))} / {F(ms.Count == 0 ? double.NaN : ms.Max())}";
}

/// <summary>Memory of this process (the platform: silo, driver, objects and gateway all live here).</summary>
internal sealed record MemorySample(double RssMiB, double GcHeapMiB, double GcCommittedMiB, double ManagedLiveMiB, int Threads, int OpenFiles)
{
    public static MemorySample Take(bool fullGc = false)
    {
        if (fullGc)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        var info = GC.GetGCMemoryInfo(GCKind.Any);
        using var process = Process.GetCurrentProcess();
        return new MemorySample(
            ProcStatusKiB("VmRSS") / 1024.0,
            info.HeapSizeBytes / 1048576.0,
            info.TotalCommittedBytes / 1048576.0,
            GC.GetTotalMemory(false) / 1048576.0,
            process.Threads.Count,
            Directory.GetFiles("/proc/self/fd").Length);
    }

    public string Row(string label) =>
        $"| {label} | {Stats.F(RssMiB)} | {Stats.F(GcHeapMiB)} | {Stats.F(GcCommittedMiB)} | {Stats.F(ManagedLiveMiB)} | {Threads} | {OpenFiles} |";

    public const string Header = "| when | RSS MiB | GC heap MiB | GC committed MiB | live managed MiB | threads | open fds |\n|---|---|---|---|---|---|---|";

    private static long ProcStatusKiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}

/// <summary>Host-level figures read from /proc and the cgroup tree.</summary>
internal static class HostInfo
{
    public static double MemAvailableMiB() => MemInfoKiB("MemAvailable") / 1024.0;

    private static long MemInfoKiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

    /// <summary>
    /// TCP connections accepted so far in the network namespace of process <paramref name="pid"/> (its <c>PassiveOpens</c>):
    /// for a container's process, the connections its app accepted. -1 when it cannot be read.
    /// </summary>
    public static long PassiveOpens(int pid)
    {
        try
        {
            var lines = File.ReadAllLines($"/proc/{pid}/net/snmp").Where(l => l.StartsWith("Tcp:", StringComparison.Ordinal)).ToArray();
            if (lines.Length < 2)
            {
                return -1;
            }

            var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var index = Array.IndexOf(names, "PassiveOpens");
            return index < 0 ? -1 : long.Parse(values[index], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>The runtime settings that change the gateway's cost per request: GC mode and the DOTNET_ variables set.</summary>
    public static string RuntimeSettings()
    {
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => (k.StartsWith("DOTNET_", StringComparison.Ordinal) || k.StartsWith("Logging__", StringComparison.Ordinal)
                    || k.StartsWith("Berth__Gateway__", StringComparison.Ordinal) || k.StartsWith("BERTH_BENCH_", StringComparison.Ordinal))
                && !k.StartsWith("DOTNET_ROOT", StringComparison.Ordinal) && !k.StartsWith("DOTNET_CLI", StringComparison.Ordinal)
                && k is not ("DOTNET_PerfMapEnabled" or "DOTNET_EnableWriteXorExecute" or "DOTNET_NOLOGO" or "DOTNET_GENERATE_ASPNET_CERTIFICATE"))
            .Order(StringComparer.Ordinal)
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}");
        return $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC ({(System.Runtime.GCSettings.LatencyMode)}), {Environment.ProcessorCount} cores"
            + (variables.Any() ? "; " + string.Join(", ", variables) : "");
    }

    /// <summary>CPU seconds (user + system) a process has used.</summary>
    public static double ProcessCpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 (index 11 and 12 after the command).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Context switches (voluntary + involuntary) of every thread of process <paramref name="pid"/> so far, from
    /// <c>/proc/&lt;pid&gt;/task/*/status</c>; threads that ended are not counted. 0 when it cannot be read.
    /// </summary>
    public static long ContextSwitches(int pid)
    {
        long total = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread ended between the listing and the read.
                }
            }
        }
        catch (IOException)
        {
            return 0;
        }

        return total;
    }

    /// <summary>CPU seconds a container's cgroup (v1 cpuacct) has used, when readable.</summary>
    public static double ContainerCpuSeconds(string containerId)
    {
        foreach (var path in new[]
        {
            $"/sys/fs/cgroup/cpu,cpuacct/docker/{containerId}/cpuacct.usage",
            $"/sys/fs/cgroup/cpuacct/docker/{containerId}/cpuacct.usage",
        })
        {
            if (File.Exists(path))
            {
                return long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture) / 1e9;
            }
        }

        return double.NaN;
    }

    /// <summary>Busy and total CPU jiffies of the whole host.</summary>
    public static (long Busy, long Total) HostCpu()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Sum();
        return (total - idle, total);
    }

    /// <summary>Processes whose command line contains all the given parts.</summary>
    public static List<int> FindProcesses(params string[] parts)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (parts.All(p => cmd.Contains(p, StringComparison.Ordinal)))
                {
                    result.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return result;
    }

    /// <summary>Resident memory of a process, MiB.</summary>
    public static double ProcessRssMiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    public static string Describe()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "?"
            : "?";
        return $"{Environment.ProcessorCount} cores ({cpu}), {MemInfoKiB("MemTotal") / 1048576.0:0.0} GiB, {os}, kernel {Environment.OSVersion.Version}, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}";
    }
}

/// <summary>Runs a command and captures its output.</summary>
internal static class Shell
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        Cleanup.Register(process);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var output = new StringBuilder().Append(await stdout).Append(await stderr).ToString();
            return (process.ExitCode, output);
        }
        finally
        {
            Cleanup.Unregister(process);
        }
    }

    public static string Quote(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'"));
}
