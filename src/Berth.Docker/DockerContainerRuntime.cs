using System.Globalization;
using Berth.Runtime;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using DockerPortBinding = Docker.DotNet.Models.PortBinding;
using ContainerSpec = Berth.Runtime.ContainerSpec;
using ContainerInspection = Berth.Runtime.ContainerInspection;
using NetworkSpec = Berth.Runtime.NetworkSpec;
using PortBinding = Berth.Runtime.PortBinding;

namespace Berth.Docker;

/// <summary>
/// <see cref="IContainerRuntime"/> on the Docker Engine API. One cached client per instance; safe to
/// use from many threads. Ports are published only when a spec asks, then on 127.0.0.1 only, on ports the engine picks; every
/// container, network and image it creates carries <see cref="BerthLabels.Managed"/>.
/// </summary>
public sealed partial class DockerContainerRuntime : IContainerRuntime, IContainerDiskUsage, IContainerEngineIdentity, IDisposable
{
    private const string Loopback = "127.0.0.1";
    private const int DiskUnknown = 0;
    private const int DiskSupported = 1;
    private const int DiskUnsupported = 2;

    private readonly DockerClient _client;
    private readonly DockerRuntimeOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly HostFirewall _firewall;
    private int _diskLimits = DiskUnknown;
    private EngineInfo? _engine;

    /// <summary>Creates the driver; <paramref name="options"/> are validated here.</summary>
    /// <param name="options">The driver's settings.</param>
    /// <param name="logger">Where engine calls are logged.</param>
    /// <param name="timeProvider">The clock of stop grace periods.</param>
    /// <param name="firewall">
    /// The host firewall installed before the first network is ensured (when <see cref="DockerRuntimeOptions.HostFirewall"/>);
    /// <see langword="null"/> means one that runs the host's <c>iptables</c>.
    /// </param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message names it.</exception>
    public DockerContainerRuntime(DockerRuntimeOptions options, ILogger<DockerContainerRuntime>? logger = null, TimeProvider? timeProvider = null, HostFirewall? firewall = null)
    {
        _firewall = firewall ?? new HostFirewall();
        Endpoint = options.GetEndpointUri();
        _options = options;
        _logger = logger ?? NullLogger<DockerContainerRuntime>.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _client = new DockerClientBuilder().WithEndpoint(Endpoint).WithTimeout(options.RequestTimeout).Build();
    }

    /// <summary>The engine endpoint this driver talks to.</summary>
    public Uri Endpoint { get; }

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "ping");
        await CallAsync((c, ct) => c.System.PingAsync(ct), Subject.Engine, null, cancellationToken);
    }

    /// <summary>
    /// Whether this engine's storage driver can cap a container's writable layer (overlay2 on xfs with
    /// <c>pquota</c>, btrfs, zfs, devicemapper). Detected once; when it cannot, a warning is logged once
    /// and containers are created without a disk limit.
    /// </summary>
    public async Task<bool> SupportsDiskLimitsAsync(CancellationToken cancellationToken = default)
    {
        var known = Volatile.Read(ref _diskLimits);
        if (known != DiskUnknown)
        {
            return known == DiskSupported;
        }

        if (!_options.EnforceDiskLimits)
        {
            MarkDiskLimitsUnsupported("disabled by Docker:EnforceDiskLimits");
            return false;
        }

        var engine = await GetEngineInfoAsync(cancellationToken);
        var supported = engine.StorageDriver switch
        {
            "overlay2" => engine.BackingFilesystem == "xfs",
            "btrfs" or "zfs" or "devicemapper" => true,
            _ => false,
        };
        if (supported)
        {
            Interlocked.CompareExchange(ref _diskLimits, DiskSupported, DiskUnknown);
        }
        else
        {
            MarkDiskLimitsUnsupported($"storage driver {engine.StorageDriver} on {engine.BackingFilesystem} cannot limit a container's size (needs overlay2 on xfs with pquota, btrfs, zfs or devicemapper)");
        }

        return Volatile.Read(ref _diskLimits) == DiskSupported;
    }

    /// <summary>What the engine runs on; asked once, as it does not change while the engine runs.</summary>
    private async Task<EngineInfo> GetEngineInfoAsync(CancellationToken cancellationToken)
    {
        if (_engine is { } known)
        {
            return known;
        }

        var info = await CallAsync((c, ct) => c.System.GetSystemInfoAsync(ct), Subject.Engine, null, cancellationToken);
        var backingFs = info.DriverStatus?.FirstOrDefault(s => s.Length == 2 && s[0] == "Backing Filesystem")?[1] ?? "unknown";
        return _engine = new EngineInfo(info.Driver, backingFs, Math.Max(1, info.NCPU), info.ID ?? "");
    }

    private sealed record EngineInfo(string StorageDriver, string BackingFilesystem, long Cpus, string Id);

    /// <inheritdoc />
    public async Task<string> GetEngineIdAsync(CancellationToken cancellationToken = default)
    {
        var id = (await GetEngineInfoAsync(cancellationToken)).Id;
        return id.Length > 0 ? id : throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, $"The engine at {Endpoint} reports no ID in its system information.");
    }

    private void MarkDiskLimitsUnsupported(string reason)
    {
        if (Interlocked.Exchange(ref _diskLimits, DiskUnsupported) != DiskUnsupported)
        {
            _logger.DiskLimitsNotEnforced(Endpoint.ToString(), reason);
        }
    }

    /// <inheritdoc />
    public async Task<string> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var call = DockerTelemetry.Start(_timeProvider, "create");
        var withDisk = await SupportsDiskLimitsAsync(cancellationToken);
        // The engine refuses more CPUs than the host has; a bigger instance type gets the whole host.
        var hostNanoCpus = (await GetEngineInfoAsync(cancellationToken)).Cpus * 1_000_000_000;
        if (spec.InstanceType.NanoCpus > hostNanoCpus)
        {
            _logger.CpuLimitCapped(spec.Name, spec.InstanceType, hostNanoCpus / 1e9);
        }

        var nanoCpus = Math.Min(spec.InstanceType.NanoCpus, hostNanoCpus);
        CreateContainerResponse response;
        try
        {
            response = await CallAsync((c, ct) => c.Containers.CreateContainerAsync(ToCreateParameters(spec, nanoCpus, withDisk), ct), Subject.Image, spec.Image, cancellationToken);
        }
        catch (ContainerRuntimeException e) when (withDisk && e.Message.Contains("storage-opt", StringComparison.OrdinalIgnoreCase))
        {
            // overlay2 on xfs without the pquota mount option looks capable but refuses sizes.
            MarkDiskLimitsUnsupported(e.Message);
            response = await CallAsync((c, ct) => c.Containers.CreateContainerAsync(ToCreateParameters(spec, nanoCpus, withDisk: false), ct), Subject.Image, spec.Image, cancellationToken);
        }

        _logger.ContainerCreated(response.ID, spec.Name, spec.Image, spec.InstanceType);
        return response.ID;
    }

    private CreateContainerParameters ToCreateParameters(ContainerSpec spec, long nanoCpus, bool withDisk)
    {
        var ports = spec.Ports.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p}/tcp")).ToList();
        var instanceType = spec.InstanceType;
        return new CreateContainerParameters
        {
            Name = spec.Name,
            Image = spec.Image,
            Entrypoint = spec.Entrypoint?.ToList()!,
            Cmd = spec.Command?.ToList()!,
            Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
            Labels = WithManagedLabel(spec.Labels),
            WorkingDir = spec.WorkingDirectory!,
            StopSignal = spec.StopSignal?.ToSignalName()!,
            ExposedPorts = ports.ToDictionary(p => p, _ => default(EmptyStruct)),
            HostConfig = new HostConfig
            {
                // Only when asked; then 127.0.0.1 only, and an empty host port so the engine picks a free one.
                PortBindings = spec.PublishPorts
                    ? ports.ToDictionary(p => p, _ => (IList<DockerPortBinding>)[new DockerPortBinding { HostIP = Loopback, HostPort = "" }])
                    : null!,
                Memory = instanceType.MemoryBytes,
                // Equal to Memory: no swap on top of the memory limit.
                MemorySwap = instanceType.MemoryBytes,
                NanoCPUs = nanoCpus,
                PidsLimit = spec.PidsLimit > 0 ? spec.PidsLimit : _options.DefaultPidsLimit,
                StorageOpt = withDisk ? new Dictionary<string, string> { ["size"] = string.Create(CultureInfo.InvariantCulture, $"{instanceType.DiskMb}M") } : null!,
                Ulimits = [new Ulimit { Name = "nofile", Soft = OpenFiles(spec), Hard = OpenFiles(spec) }],
                Tmpfs = spec.ScratchMounts.Count == 0 ? null! : spec.ScratchMounts.ToDictionary(m => m, _ => ScratchOptions(instanceType), StringComparer.Ordinal),
                NetworkMode = spec.Network!,
                // Without NET_RAW a container cannot forge frames: no ARP or IP spoofing of a neighbour on its bridge (the
                // egress proxy and the host firewall tell containers apart by source address), no raw IPv6 around its
                // disabled stack. Only ping-like tools need it; Docker's other default capabilities stay.
                CapDrop = DroppedCapabilities,
                ExtraHosts = spec.ExtraHosts.Count == 0 ? null! : spec.ExtraHosts.ToList(),
                Runtime = spec.Runtime!,
                // null, not false, when off: the engine then applies its own default (dockerd's "init" setting).
                Init = spec.Init ? true : null,
                Binds = spec.BindMounts.Count == 0 ? null! : spec.BindMounts.Select(b => $"{b.HostPath}:{b.ContainerPath}:{(b.ReadOnly ? "ro" : "rw")}").ToList(),
            },
        };
    }

    /// <summary>Capabilities no Berth container gets, from Docker's default set: <c>NET_RAW</c> (see docs/security.md).</summary>
    internal static readonly IList<string> DroppedCapabilities = ["NET_RAW"];

    /// <summary>The container's RLIMIT_NOFILE: the spec's, else its instance type's, never above <see cref="DockerRuntimeOptions.MaxOpenFilesLimit"/>.</summary>
    private long OpenFiles(ContainerSpec spec) =>
        Math.Min(spec.OpenFilesLimit > 0 ? spec.OpenFilesLimit : spec.InstanceType.OpenFilesLimit, _options.MaxOpenFilesLimit);

    /// <summary>tmpfs options of a scratch mount: the disk or half the memory, whichever is smaller (tmpfs pages count as memory).</summary>
    private static string ScratchOptions(InstanceType instanceType) =>
        string.Create(CultureInfo.InvariantCulture, $"rw,nosuid,nodev,size={Math.Min(instanceType.DiskMb, instanceType.MemoryMib / 2)}m");

    private static Dictionary<string, string> WithManagedLabel(IReadOnlyDictionary<string, string>? labels)
    {
        var result = labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
        result.TryAdd(BerthLabels.Managed, "1");
        return result;
    }

    /// <inheritdoc />
    public async Task StartAsync(string containerId, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "start");
        await CallAsync((c, ct) => c.Containers.StartContainerAsync(containerId, new ContainerStartParameters(), ct), Subject.Container, containerId, cancellationToken);
        _logger.ContainerStarted(containerId);
    }

    /// <inheritdoc />
    public async Task PauseAsync(string containerId, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "pause");
        await CallAsync((c, ct) => c.Containers.PauseContainerAsync(containerId, ct), Subject.Container, containerId, cancellationToken);
        _logger.ContainerPaused(containerId);
    }

    /// <inheritdoc />
    public async Task UnpauseAsync(string containerId, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "unpause");
        await CallAsync((c, ct) => c.Containers.UnpauseContainerAsync(containerId, ct), Subject.Container, containerId, cancellationToken);
        _logger.ContainerUnpaused(containerId);
    }

    /// <inheritdoc />
    public async Task<ContainerInspection?> InspectAsync(string containerId, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "inspect");
        var response = await InspectRawAsync(containerId, cancellationToken);
        return response is null ? null : ToStatus(response);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Asks the engine (<c>GET /containers/{id}/json?size=1</c>), which walks the container's upper directory: about
    /// 30–70 ms for a layer of 100 MB on the reference machine, and it works with a remote or rootless engine.
    /// </remarks>
    public async Task<long?> GetWritableLayerBytesAsync(string containerId, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await _client.Containers.InspectContainerAsync(containerId, new ContainerInspectParameters { IncludeSize = true }, cancellationToken);
            return response.SizeRw ?? 0;
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Container, containerId, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<ContainerInspectResponse?> InspectRawAsync(string containerId, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.Containers.InspectContainerAsync(containerId, cancellationToken);
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Container, containerId, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private static ContainerInspection ToStatus(ContainerInspectResponse r)
    {
        var networks = r.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>();
        var network = r.HostConfig?.NetworkMode is { } mode && networks.TryGetValue(mode, out var onMode)
            ? new KeyValuePair<string, EndpointSettings>(mode, onMode)
            : networks.FirstOrDefault();
        return new ContainerInspection
        {
            Id = r.ID,
            Name = r.Name.TrimStart('/'),
            Image = r.Config?.Image ?? r.Image,
            State = ParseState(r.State?.Status),
            ExitCode = r.State is { Running: false, Status: "exited" or "dead" } ? (int)r.State.ExitCode : null!,
            OomKilled = r.State?.OOMKilled ?? false,
            Error = NullIfEmpty(r.State?.Error),
            StartedAt = ParseTime(r.State?.StartedAt),
            FinishedAt = ParseTime(r.State?.FinishedAt),
            Labels = r.Config?.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [],
            Ports = ToPorts(r.NetworkSettings?.Ports),
            IpAddress = NullIfEmpty(network.Value?.IPAddress),
            Network = network.Key,
            MemoryLimitBytes = r.HostConfig?.Memory ?? 0,
            NanoCpus = r.HostConfig?.NanoCPUs ?? 0,
            PidsLimit = r.HostConfig?.PidsLimit,
            Runtime = NullIfEmpty(r.HostConfig?.Runtime),
        };
    }

    private static Dictionary<int, PortBinding> ToPorts(IDictionary<string, IList<DockerPortBinding>>? ports)
    {
        var result = new Dictionary<int, PortBinding>();
        foreach (var (key, bindings) in ports ?? new Dictionary<string, IList<DockerPortBinding>>())
        {
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            if (!key.EndsWith("/tcp", StringComparison.Ordinal)
                || !int.TryParse(key.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var containerPort)
                || bindings is null)
            {
                continue;
            }

            var binding = bindings.FirstOrDefault(b => b.HostIP == Loopback) ?? bindings.FirstOrDefault();
            if (binding is not null && int.TryParse(binding.HostPort, NumberStyles.None, CultureInfo.InvariantCulture, out var hostPort))
            {
                result[containerPort] = new PortBinding(containerPort, string.IsNullOrEmpty(binding.HostIP) ? Loopback : binding.HostIP, hostPort);
            }
        }

        return result;
    }

    private static EngineContainerState ParseState(string? state) => state switch
    {
        "created" => EngineContainerState.Created,
        "running" => EngineContainerState.Running,
        "paused" => EngineContainerState.Paused,
        "restarting" => EngineContainerState.Restarting,
        "removing" => EngineContainerState.Removing,
        "dead" => EngineContainerState.Dead,
        _ => EngineContainerState.Exited,
    };

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year > 1
            ? time
            : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <inheritdoc />
    public async Task<ContainerExit> WaitForExitAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync((c, ct) => c.Containers.WaitContainerAsync(containerId, ct), Subject.Container, containerId, cancellationToken);
        // The wait endpoint does not say whether the OOM killer did it; inspect does.
        var state = (await InspectRawAsync(containerId, cancellationToken))?.State;
        var exit = new ContainerExit((int)response.StatusCode, state?.OOMKilled ?? false, NullIfEmpty(response.Error?.Message) ?? NullIfEmpty(state?.Error));
        _logger.ContainerExited(containerId, exit.ExitCode, exit.OomKilled);
        return exit;
    }

    /// <inheritdoc />
    public async Task SignalAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "kill");
        await CallAsync((c, ct) => c.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = signal.ToSignalName() }, ct), Subject.Container, containerId, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ContainerExit> StopAsync(string containerId, StopOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var call = DockerTelemetry.Start(_timeProvider, "stop");
        var state = (await InspectRawAsync(containerId, cancellationToken))?.State
            ?? throw new ContainerRuntimeException(ContainerRuntimeError.ContainerNotFound, $"Container '{containerId}' does not exist.");
        if (!state.Running)
        {
            return new ContainerExit((int)state.ExitCode, state.OOMKilled, NullIfEmpty(state.Error));
        }

        _logger.StoppingContainer(containerId, options.Signal.ToSignalName(), options.GracePeriod.TotalMilliseconds);
        await SignalIfRunningAsync(containerId, options.Signal, cancellationToken);
        // Our own timer rather than the engine's stop timeout, which only has whole seconds. Waiting
        // after signalling cannot miss the exit: the engine's wait returns at once for a stopped container.
        using var grace = new CancellationTokenSource(options.GracePeriod, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, cancellationToken);
        try
        {
            return await WaitForExitAsync(containerId, linked.Token);
        }
        catch (OperationCanceledException) when (grace.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _logger.KillingAfterGrace(containerId, options.GracePeriod.TotalMilliseconds);
            await SignalIfRunningAsync(containerId, ContainerSignal.SIGKILL, cancellationToken);
            return await WaitForExitAsync(containerId, cancellationToken);
        }
    }

    private async Task SignalIfRunningAsync(string containerId, ContainerSignal signal, CancellationToken cancellationToken)
    {
        try
        {
            await SignalAsync(containerId, signal, cancellationToken);
        }
        catch (ContainerRuntimeException e) when (e.Error == ContainerRuntimeError.Conflict)
        {
            // It exited between our inspect and the signal: the wait that follows reports how.
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string containerId, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "remove");
        try
        {
            await _client.Containers.RemoveContainerAsync(containerId, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancellationToken);
            _logger.ContainerRemoved(containerId);
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e) || IsRemovalInProgress(e))
        {
            // Already gone (or going): removal is idempotent.
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Container, containerId, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private static bool IsRemovalInProgress(Exception e) =>
        e is DockerApiException { StatusCode: System.Net.HttpStatusCode.Conflict } api
        && DockerErrors.EngineMessage(api).Contains("already in progress", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ContainerSummary>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        using var call = DockerTelemetry.Start(_timeProvider, "list");
        var parameters = new ContainersListParameters { All = true, Filters = LabelFilter(labels) };
        var containers = await CallAsync((c, ct) => c.Containers.ListContainersAsync(parameters, ct), Subject.Engine, null, cancellationToken);
        return containers.Select(c => new ContainerSummary(
            c.ID,
            c.Names?.FirstOrDefault()?.TrimStart('/') ?? c.ID,
            c.Image,
            ParseState(c.State),
            c.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [],
            new DateTimeOffset(DateTime.SpecifyKind(c.Created, DateTimeKind.Utc)))).ToList();
    }

    /// <summary>The engine's label filter; a value of <c>*</c> filters by key only.</summary>
    private static Dictionary<string, IDictionary<string, bool>> LabelFilter(IReadOnlyDictionary<string, string>? labels) =>
        new()
        {
            ["label"] = (labels ?? new Dictionary<string, string>())
                .ToDictionary(kv => kv.Value == "*" ? kv.Key : $"{kv.Key}={kv.Value}", _ => true),
        };

    /// <summary>The bridge driver's option that names the host interface.</summary>
    internal const string BridgeNameOption = "com.docker.network.bridge.name";

    /// <summary>The bridge driver's option that allows or forbids container-to-container traffic.</summary>
    internal const string IccOption = "com.docker.network.bridge.enable_icc";

    /// <inheritdoc />
    /// <remarks>
    /// Every network gets inter-container communication as <see cref="NetworkSpec.InterContainerCommunication"/> says
    /// (off by default) and its bridge named <see cref="BerthNames.BridgeInterface"/>. An existing network of the name
    /// created with other isolation options (by an older Berth) is removed and made again when nothing is attached to it;
    /// when containers still use it, the call fails with <see cref="ContainerRuntimeError.Conflict"/> rather than
    /// attach a new container to a network without isolation.
    /// </remarks>
    public async Task<string> EnsureNetworkAsync(NetworkSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var options = NetworkOptions(spec);
        await EnsureHostFirewallAsync(cancellationToken);
        if (await FindNetworkResponseAsync(spec.Name, cancellationToken) is { } existing)
        {
            if (HasOptions(existing, options))
            {
                return existing.ID;
            }

            await ReplaceUnisolatedNetworkAsync(existing, cancellationToken);
        }

        try
        {
            var parameters = new NetworksCreateParameters
            {
                Name = spec.Name,
                Driver = "bridge",
                Internal = spec.Internal,
                Labels = WithManagedLabel(spec.Labels),
                Options = options,
            };
            var created = await CallAsync((c, ct) => c.Networks.CreateNetworkAsync(parameters, ct), Subject.Network, spec.Name, cancellationToken);
            _logger.NetworkCreated(spec.Name, created.ID);
            return created.ID;
        }
        catch (ContainerRuntimeException e) when (e.Error == ContainerRuntimeError.Conflict)
        {
            // Someone created it between our lookup and create.
            if (await FindNetworkAsync(spec.Name, cancellationToken) is { } raced)
            {
                return raced;
            }

            throw;
        }
    }

    /// <summary>Installs <see cref="HostFirewall"/> before any container can join a Berth network (once; see the option).</summary>
    private async Task EnsureHostFirewallAsync(CancellationToken cancellationToken)
    {
        if (!_options.HostFirewall)
        {
            return;
        }

        try
        {
            await _firewall.EnsureInstalledAsync(cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new ContainerRuntimeException(
                ContainerRuntimeError.Unknown,
                $"The host firewall that keeps containers off the host's services could not be installed: {e.Message}",
                e);
        }
    }

    private static Dictionary<string, string> NetworkOptions(NetworkSpec spec)
    {
        var bridge = spec.BridgeInterface ?? BerthNames.BridgeInterface(spec.Name);
        if (bridge.Length is 0 or > 15)
        {
            throw new ArgumentException($"Bridge interface name '{bridge}' must be 1 to 15 characters (a Linux interface name).", nameof(spec));
        }

        // The caller's driver options first; the bridge name and ICC are Berth's isolation contract and always win.
        var options = spec.Options is { } extra ? new Dictionary<string, string>(extra, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        options[BridgeNameOption] = bridge;
        options[IccOption] = spec.InterContainerCommunication ? "true" : "false";
        return options;
    }

    private static bool HasOptions(NetworkResponse network, Dictionary<string, string> wanted) =>
        wanted.All(kv => network.Options is { } have && have.TryGetValue(kv.Key, out var value) && value == kv.Value);

    private async Task ReplaceUnisolatedNetworkAsync(NetworkResponse existing, CancellationToken cancellationToken)
    {
        _logger.ReplacingUnisolatedNetwork(existing.Name, existing.ID);
        try
        {
            await _client.Networks.DeleteNetworkAsync(existing.ID, cancellationToken);
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            // Gone already: create it below.
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Network, existing.Name, Endpoint, cancellationToken) is { } translated)
        {
            throw new ContainerRuntimeException(
                ContainerRuntimeError.Conflict,
                $"Network '{existing.Name}' exists without Berth's isolation options (inter-container communication off, bridge named "
                + $"{BerthNames.BridgeInterface(existing.Name)}) and could not be replaced: {translated.Message} Stop the containers attached to it, "
                + "or remove the network, and try again.",
                translated);
        }
    }

    private async Task<string?> FindNetworkAsync(string name, CancellationToken cancellationToken) =>
        (await FindNetworkResponseAsync(name, cancellationToken))?.ID;

    private async Task<NetworkResponse?> FindNetworkResponseAsync(string name, CancellationToken cancellationToken)
    {
        var parameters = new NetworksListParameters { Filters = new Dictionary<string, IDictionary<string, bool>> { ["name"] = new Dictionary<string, bool> { [name] = true } } };
        var networks = await CallAsync((c, ct) => c.Networks.ListNetworksAsync(parameters, ct), Subject.Network, name, cancellationToken);
        // The engine's name filter matches substrings.
        return networks.FirstOrDefault(n => n.Name == name);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NetworkInfo>> ListNetworksAsync(IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken = default)
    {
        var parameters = new NetworksListParameters { Filters = LabelFilter(labels) };
        var networks = await CallAsync((c, ct) => c.Networks.ListNetworksAsync(parameters, ct), Subject.Engine, null, cancellationToken);
        return networks.Select(n => new NetworkInfo(n.ID, n.Name, n.Internal, n.Labels?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [])).ToList();
    }

    /// <inheritdoc />
    public async Task RemoveNetworkAsync(string networkId, CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.Networks.DeleteNetworkAsync(networkId, cancellationToken);
        }
        catch (Exception e) when (DockerErrors.IsNotFound(e))
        {
            // Already gone.
        }
        catch (Exception e) when (DockerErrors.Translate(e, Subject.Network, networkId, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Runs an engine call, translating its failures into <see cref="ContainerRuntimeException"/>.</summary>
    private async Task<T> CallAsync<T>(Func<DockerClient, CancellationToken, Task<T>> call, Subject subject, string? name, CancellationToken cancellationToken)
    {
        try
        {
            return await call(_client, cancellationToken);
        }
        catch (Exception e) when (DockerErrors.Translate(e, subject, name, Endpoint, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private Task CallAsync(Func<DockerClient, CancellationToken, Task> call, Subject subject, string? name, CancellationToken cancellationToken) =>
        CallAsync(async (c, ct) =>
        {
            await call(c, ct);
            return true;
        }, subject, name, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();
}
