using System.Globalization;
using Berth.Runtime;

namespace Berth.Hosting;

/// <summary>
/// <see cref="IContainerResourceReader"/> on the host's cgroup files, found from the container's ID: cgroup v1
/// (<c>/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage</c> in ns, <c>/sys/fs/cgroup/memory/docker/{id}/memory.usage_in_bytes</c>)
/// or v2 (<c>/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat</c> <c>usage_usec</c>, <c>memory.current</c>, and the
/// <c>/sys/fs/cgroup/docker/{id}</c> layout of the cgroupfs driver). When none is visible (a remote engine, a container
/// without access to the host's <c>/sys</c>), it asks the engine's stats API (<see cref="IContainerExecOperations.GetStatsAsync"/>),
/// which is slower (about a second).
/// </summary>
public sealed class CgroupResourceReader : IContainerResourceReader
{
    private readonly string _root;
    private readonly IContainerExecOperations? _engine;

    /// <summary>Creates the reader.</summary>
    /// <param name="engine">The engine's stats API, the fallback; <see langword="null"/> for none.</param>
    /// <param name="cgroupRoot">Where the cgroup file system is mounted; <c>/sys/fs/cgroup</c> unless a test says otherwise.</param>
    public CgroupResourceReader(IContainerExecOperations? engine, string cgroupRoot = "/sys/fs/cgroup")
    {
        ArgumentException.ThrowIfNullOrEmpty(cgroupRoot);
        _engine = engine;
        _root = cgroupRoot;
    }

    /// <inheritdoc />
    public async ValueTask<ContainerResourceSample?> ReadAsync(string containerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerId);
        // The ID names a directory: anything but hex digits never reaches the file system.
        if (!containerId.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        if (await ReadCgroupAsync(containerId, cancellationToken) is { } sample)
        {
            return sample;
        }

        if (_engine is null)
        {
            return null;
        }

        try
        {
            var stats = await _engine.GetStatsAsync(containerId, cancellationToken);
            return new ContainerResourceSample((long)Math.Min(stats.CpuTotalNanoseconds, long.MaxValue), (long)Math.Min(stats.MemoryUsageBytes, long.MaxValue));
        }
        catch (ContainerRuntimeException)
        {
            return null;
        }
    }

    private async Task<ContainerResourceSample?> ReadCgroupAsync(string id, CancellationToken cancellationToken)
    {
        // cgroup v1, Docker's cgroupfs driver (this project's CI machine).
        if (await ReadLongAsync(Path.Combine(_root, "cpuacct", "docker", id, "cpuacct.usage"), cancellationToken) is { } v1Cpu)
        {
            var memory = await ReadLongAsync(Path.Combine(_root, "memory", "docker", id, "memory.usage_in_bytes"), cancellationToken);
            return new ContainerResourceSample(v1Cpu, memory);
        }

        // cgroup v1, systemd driver.
        if (await ReadLongAsync(Path.Combine(_root, "cpuacct", "system.slice", $"docker-{id}.scope", "cpuacct.usage"), cancellationToken) is { } v1SystemdCpu)
        {
            var memory = await ReadLongAsync(Path.Combine(_root, "memory", "system.slice", $"docker-{id}.scope", "memory.usage_in_bytes"), cancellationToken);
            return new ContainerResourceSample(v1SystemdCpu, memory);
        }

        // cgroup v2: systemd driver, then cgroupfs.
        foreach (var directory in new[] { Path.Combine(_root, "system.slice", $"docker-{id}.scope"), Path.Combine(_root, "docker", id) })
        {
            if (await ReadUsageMicrosecondsAsync(Path.Combine(directory, "cpu.stat"), cancellationToken) is { } usec)
            {
                var memory = await ReadLongAsync(Path.Combine(directory, "memory.current"), cancellationToken);
                return new ContainerResourceSample(usec * 1000, memory);
            }
        }

        return null;
    }

    private static async Task<long?> ReadLongAsync(string path, CancellationToken cancellationToken)
    {
        var text = await ReadTextAsync(path, cancellationToken);
        return text is not null && long.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private static async Task<long?> ReadUsageMicrosecondsAsync(string path, CancellationToken cancellationToken)
    {
        var text = await ReadTextAsync(path, cancellationToken);
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("usage_usec ", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(11).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var usec))
            {
                return usec;
            }
        }

        return null;
    }

    private static async Task<string?> ReadTextAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone (the container stopped) or not visible here: the caller falls back.
            return null;
        }
    }
}
