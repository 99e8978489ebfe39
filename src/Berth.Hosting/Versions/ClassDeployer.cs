using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// Turns images into recorded versions and rolls them out: at start-up (a changed image or config is a deploy too), for
/// <c>POST /_berth/admin/classes/{class}/deploy</c> and for rollbacks. Images go through the node's registry
/// (<see cref="RegistryOptions"/>) and versions name them by digest. Rollouts go through the registered
/// <see cref="IRolloutCoordinator"/>; without one the class's traffic is set directly (new activations use the version).
/// </summary>
public sealed partial class ClassDeployer(
    IClassVersionStore store,
    AppImageBuilder images,
    IImageOperations engine,
    BerthAppConfig config,
    IOptions<RegistryOptions> registry,
    IServiceProvider services,
    ILogger<ClassDeployer> logger)
{
    /// <summary>A hash of the parts of a class's config a version runs with (instance type, limits, runtime, init), hex, 16 characters.</summary>
    public static string ConfigHash(ContainerConfig container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var text = string.Join('\n',
            $"class={container.ClassName}",
            $"instance_type={container.InstanceType?.ToString() ?? ""}",
            $"max_instances={container.MaxInstances?.ToString(CultureInfo.InvariantCulture) ?? ""}",
            $"sleep_after={container.SleepAfter?.TotalSeconds.ToString(CultureInfo.InvariantCulture) ?? ""}",
            $"runtime={container.Runtime ?? ""}",
            $"init={container.Init?.ToString() ?? ""}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>The registry repository of a class's versions: <c>{Address}/berth-{app}-{class}</c>.</summary>
    public string RegistryRepository(string className) => $"{registry.Value.Address}/{BerthNames.ImageRepository(config.Name, className)}";

    /// <summary>
    /// At start-up: ensures the class's image, and records a version (trigger <c>startup</c>) when its image or config differs
    /// from the class's current version. The class's first version becomes current at once; a later one is left for the
    /// caller to roll out (<see cref="RollOutAsync"/>). Answers <see langword="null"/> when nothing changed.
    /// </summary>
    /// <exception cref="ContainerRuntimeException">The image could not be built or found.</exception>
    public Task<StartupVersion?> RecordStartupAsync(ContainerConfig container, CancellationToken cancellationToken = default) =>
        RecordBuiltAsync(container, "startup", cancellationToken);

    /// <summary>
    /// As <see cref="RecordStartupAsync"/>, with another trigger: <c>dev</c> when <c>berth dev</c> rebuilt the image after its
    /// build context changed.
    /// </summary>
    /// <exception cref="ContainerRuntimeException">The image could not be built or found.</exception>
    public async Task<StartupVersion?> RecordBuiltAsync(ContainerConfig container, string trigger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(container);
        var className = container.ClassName;
        var image = await images.EnsureImageAsync(container, cancellationToken);
        var local = await engine.InspectImageAsync(image.Reference, cancellationToken)
            ?? throw new ContainerRuntimeException(ContainerRuntimeError.ImageNotFound, $"Container class '{className}': image '{image.Reference}' is not on the engine.");
        var hash = ConfigHash(container);
        var traffic = await store.GetTrafficAsync(className, cancellationToken);
        if (traffic is not null && await store.GetAsync(className, traffic.Current, cancellationToken) is { } current && current.ConfigHash == hash
            && await SameImageAsync(current, local, cancellationToken))
        {
            return null;
        }

        var (reference, digest) = await PublishAsync(className, image.Reference, local, required: false, cancellationToken);
        var version = await store.RecordAsync(className, reference, digest, hash, trigger, cancellationToken);
        Log.VersionRecorded(logger, className, version.Number, reference, trigger);
        if (traffic is null)
        {
            await store.SetTrafficAsync(new ClassTraffic(className, version.Number, null, 0), cancellationToken);
        }

        return new StartupVersion(version, First: traffic is null);
    }

    /// <summary>
    /// Deploys a new version of <paramref name="className"/>: builds <paramref name="contextTar"/> (a tar build context, read
    /// as it streams) or takes <paramref name="imageReference"/>, pushes it to the registry, records it (trigger <c>deploy</c>)
    /// and starts its rollout to <paramref name="percent"/> percent. A failed build or push records nothing and changes
    /// nothing that runs.
    /// </summary>
    /// <exception cref="DeployException">Unknown class (404), bad input (400), build failed (422), image missing (404), push failed or registry off (502/503).</exception>
    public async Task<DeployResult> DeployAsync(
        string className, Stream? contextTar, string? dockerfile, string? imageReference, int percent, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var container = FindClass(className);
        if (percent is < 1 or > 100)
        {
            throw new DeployException(400, "Bad request", $"percent: {percent} is not allowed; allowed: 1–100.");
        }

        if ((contextTar is null) == (imageReference is null))
        {
            throw new DeployException(400, "Bad request", "body: send either a build context (Content-Type: application/x-tar) or JSON { \"image\": \"ref\" }.");
        }

        if (!registry.Value.Enabled || services.GetService<IImageDistribution>() is not { } distribution)
        {
            throw new DeployException(503, "Registry disabled",
                $"Deploys push to the node's registry, which is disabled (Berth:Registry:Enabled is false). Enable it ({registry.Value.Address}, started by scripts/bootstrap.sh).");
        }

        string localReference;
        ImageInfo local;
        if (contextTar is not null)
        {
            var file = string.IsNullOrEmpty(dockerfile) ? "Dockerfile" : dockerfile;
            if (Path.IsPathRooted(file) || file.Split('/', '\\').Contains(".."))
            {
                throw new DeployException(400, "Bad request", $"dockerfile: '{Shorten(file)}' is not allowed; allowed: a relative path inside the build context, such as Dockerfile.");
            }

            localReference = $"{BerthNames.ImageRepository(config.Name, className)}:deploy-{Guid.NewGuid().ToString("N")[..12]}";
            Log.DeployBuilding(logger, className, localReference);
            try
            {
                local = await distribution.BuildImageFromContextAsync(contextTar, file, [localReference],
                    new Dictionary<string, string>(BerthNames.ForApp(config.Name)), progress, cancellationToken);
            }
            catch (ContainerRuntimeException ex) when (ex.Error is ContainerRuntimeError.BuildFailed or ContainerRuntimeError.InvalidSpec or ContainerRuntimeError.Unknown)
            {
                Log.DeployFailed(logger, className, "build", ex.Message);
                throw new DeployException(422, "Build failed", ex.Message);
            }
        }
        else
        {
            localReference = imageReference!;
            if (localReference.Length == 0 || localReference.Length > 512 || localReference.Any(char.IsWhiteSpace))
            {
                throw new DeployException(400, "Bad request", $"image: '{Shorten(localReference)}' is not allowed; allowed: an image reference such as my-api:1.2.");
            }

            var found = await engine.InspectImageAsync(localReference, cancellationToken);
            if (found is null)
            {
                try
                {
                    await distribution.PullImageAsync(localReference, cancellationToken);
                }
                catch (ContainerRuntimeException ex)
                {
                    throw new DeployException(404, "Image not found", $"image: '{Shorten(localReference)}' is not on the engine and could not be pulled: {ex.Message}");
                }

                found = await engine.InspectImageAsync(localReference, cancellationToken);
            }

            local = found ?? throw new DeployException(404, "Image not found", $"image: '{Shorten(localReference)}' is not on the engine.");
        }

        string reference;
        string? digest;
        try
        {
            (reference, digest) = await PublishAsync(className, localReference, local, required: true, cancellationToken);
        }
        catch (ContainerRuntimeException ex)
        {
            Log.DeployFailed(logger, className, "push", ex.Message);
            throw new DeployException(502, "Push failed", $"Pushing the image to the registry at {registry.Value.Address} failed: {ex.Message}");
        }

        var version = await store.RecordAsync(className, reference, digest, ConfigHash(container), "deploy", cancellationToken);
        Log.VersionRecorded(logger, className, version.Number, reference, "deploy");
        var traffic = await store.GetTrafficAsync(className, cancellationToken);
        var rollout = traffic is null
            ? await SetFirstAsync(version, cancellationToken)
            : await RollOutAsync(className, version.Number, percent, "deploy", cancellationToken);
        await CollectAsync(className, cancellationToken);
        return new DeployResult(version, rollout);
    }

    /// <summary>
    /// Rolls <paramref name="className"/> back to <paramref name="number"/>, or, when <see langword="null"/>, to the newest
    /// recorded version older than the current one. No version is recorded: the old one is made current again.
    /// </summary>
    /// <exception cref="DeployException">Unknown class or version (404), nothing to roll back to (409).</exception>
    public async Task<DeployResult> RollbackAsync(string className, int? number, CancellationToken cancellationToken = default)
    {
        FindClass(className);
        var traffic = await store.GetTrafficAsync(className, cancellationToken)
            ?? throw new DeployException(409, "No versions", $"Class '{className}' has no version yet; nothing to roll back.");
        ClassVersion target;
        if (number is { } n)
        {
            target = await store.GetAsync(className, n, cancellationToken)
                ?? throw new DeployException(404, "Not found", $"version: class '{className}' has no version {n}; 'berth versions list' shows them.");
        }
        else
        {
            var versions = await store.ListAsync(className, cancellationToken);
            target = versions.FirstOrDefault(v => v.Number < traffic.Current)
                ?? throw new DeployException(409, "No earlier version", $"Class '{className}' runs version {traffic.Current} and has no earlier version to roll back to.");
        }

        var rollout = await RollOutAsync(className, target.Number, 100, "rollback", cancellationToken);
        return new DeployResult(target, rollout);
    }

    /// <summary>
    /// Image garbage collection: removes the versions of <paramref name="className"/> older than the newest
    /// <see cref="RegistryOptions.KeepVersions"/> that no container runs (no container labelled <see cref="BerthLabels.Version"/>
    /// with the version's number, none created from its image) and that get no traffic: from the engine, from the registry
    /// (its manifest is deleted; <c>docker-registry garbage-collect</c> frees the blobs) and from the store. Answers the
    /// numbers removed. An image the engine still needs (a conflict) is left, with its version, for a later run.
    /// </summary>
    public async Task<IReadOnlyList<int>> CollectAsync(string className, CancellationToken cancellationToken = default)
    {
        if (store is not SqliteClassVersionStore sqlite || services.GetService<IContainerOperations>() is not { } containers)
        {
            return [];
        }

        var keep = registry.Value.KeepVersions;
        var traffic = await store.GetTrafficAsync(className, cancellationToken);
        var versions = await store.ListAsync(className, cancellationToken);
        var running = await containers.ListAsync(BerthNames.ForClass(config.Name, className), cancellationToken);
        var usedNumbers = running.Select(c => BerthNames.Label(c.Labels, BerthLabels.Version)).ToHashSet(StringComparer.Ordinal);
        var usedImages = running.Select(c => c.Image).ToHashSet(StringComparer.Ordinal);
        var removed = new List<int>();
        var registryDeletes = 0;
        foreach (var version in versions.Skip(keep))
        {
            if (version.Number == traffic?.Current || version.Number == traffic?.Candidate
                || usedNumbers.Contains(version.Number.ToString(CultureInfo.InvariantCulture)) || usedImages.Contains(version.Image)
                || versions.Take(keep).Any(v => v.Image == version.Image))
            {
                continue;
            }

            try
            {
                await engine.RemoveImageAsync(version.Image, force: false, cancellationToken);
            }
            catch (ContainerRuntimeException ex) when (ex.Error == ContainerRuntimeError.Conflict)
            {
                continue;
            }

            if (version.Image.Contains('@', StringComparison.Ordinal) && version.Digest is { } digest)
            {
                registryDeletes += await DeleteFromRegistryAsync(className, version, digest, cancellationToken) ? 1 : 0;
            }

            await sqlite.DeleteAsync(className, version.Number, cancellationToken);
            Log.VersionCollected(logger, className, version.Number, version.Image, keep);
            removed.Add(version.Number);
        }

        if (registryDeletes > 0)
        {
            await GarbageCollectRegistryAsync(className, cancellationToken);
        }

        return removed;
    }

    /// <summary>Frees the blobs of deleted manifests: <c>docker-registry garbage-collect {ConfigFile}</c>, when both exist.</summary>
    private async Task GarbageCollectRegistryAsync(string className, CancellationToken cancellationToken)
    {
        var binary = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "docker-registry")).FirstOrDefault(File.Exists);
        if (binary is null || !File.Exists(registry.Value.ConfigFile))
        {
            return;
        }

        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(binary, ["garbage-collect", registry.Value.ConfigFile])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                Log.VersionCollectFailed(logger, className, 0, $"docker-registry garbage-collect exited with {process.ExitCode}: {(await error).Trim()}");
            }

            await output;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Log.VersionCollectFailed(logger, className, 0, ex.Message);
        }
    }

    private static readonly HttpClient RegistryHttp = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary><see langword="null"/> when the registry answers <c>GET /v2/</c> within 3 s, else why not.</summary>
    private async Task<string?> ProbeRegistryAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3), services.GetService<TimeProvider>() ?? TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await RegistryHttp.GetAsync(new Uri($"http://{registry.Value.Address}/v2/"), linked.Token);
            return response.IsSuccessStatusCode ? null : $"GET /v2/ answered {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ex is OperationCanceledException ? "no answer within 3 s" : ex.Message;
        }
    }

    private async Task<bool> DeleteFromRegistryAsync(string className, ClassVersion version, string digest, CancellationToken cancellationToken)
    {
        var repository = BerthNames.ImageRepository(config.Name, className);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri($"http://{registry.Value.Address}/v2/{repository}/manifests/{digest}"));
            using var response = await RegistryHttp.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                Log.VersionCollectFailed(logger, className, version.Number, $"the registry answered {(int)response.StatusCode}");
            }
        }
        catch (HttpRequestException ex)
        {
            Log.VersionCollectFailed(logger, className, version.Number, ex.Message);
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="version"/> runs <paramref name="local"/>: a version by digest names one image for good; one by
    /// local tag recorded the image ID as its digest (the tag itself may point elsewhere by now).
    /// </summary>
    private async Task<bool> SameImageAsync(ClassVersion version, ImageInfo local, CancellationToken cancellationToken) =>
        version.Digest == local.Id
        || (version.Image.Contains('@', StringComparison.Ordinal) && (await engine.InspectImageAsync(version.Image, cancellationToken))?.Id == local.Id);

    private ContainerConfig FindClass(string className) =>
        config.FindContainer(className) ?? throw new DeployException(404, "Not found",
            $"The app has no container class '{Shorten(className)}'; its classes are: {string.Join(", ", config.Containers.Select(c => c.ClassName).DefaultIfEmpty("(none)"))}.");

    private async Task<RolloutStatus?> SetFirstAsync(ClassVersion version, CancellationToken cancellationToken)
    {
        await store.SetTrafficAsync(new ClassTraffic(version.ClassName, version.Number, null, 0), cancellationToken);
        return null;
    }

    /// <summary>
    /// Rolls <paramref name="className"/> to version <paramref name="number"/> for <paramref name="percent"/> percent of object
    /// IDs: through the registered <see cref="IRolloutCoordinator"/>, or, without one, by setting the class's traffic (then
    /// <see langword="null"/> is answered).
    /// </summary>
    public async Task<RolloutStatus?> RollOutAsync(string className, int number, int percent, string trigger, CancellationToken cancellationToken)
    {
        if (services.GetService<IRolloutCoordinator>() is { } coordinator)
        {
            return await coordinator.StartAsync(new RolloutRequest(className, number, percent, trigger), cancellationToken);
        }

        var traffic = await store.GetTrafficAsync(className, cancellationToken);
        await store.SetTrafficAsync(percent >= 100 || traffic is null
            ? new ClassTraffic(className, number, null, 0)
            : new ClassTraffic(className, traffic.Current, number, percent), cancellationToken);
        return null;
    }

    /// <summary>
    /// Pushes a local image to the registry and answers its reference by digest; with the registry disabled or (when not
    /// <paramref name="required"/>) unreachable, the local reference and the image ID.
    /// </summary>
    private async Task<(string Reference, string? Digest)> PublishAsync(
        string className, string localReference, ImageInfo local, bool required, CancellationToken cancellationToken)
    {
        if (!registry.Value.Enabled || services.GetService<IImageDistribution>() is not { } distribution)
        {
            if (required)
            {
                throw new ContainerRuntimeException(ContainerRuntimeError.Unknown, "the registry is disabled (Berth:Registry:Enabled).");
            }

            Log.RegistryDisabled(logger, className, localReference);
            return (localReference, local.Id);
        }

        var repository = RegistryRepository(className);
        if (!required && await ProbeRegistryAsync(cancellationToken) is { } unreachable)
        {
            // At start-up the engine would retry a push to a dead registry for a long while; a quick look first.
            Log.RegistryUnreachable(logger, className, registry.Value.Address, localReference, unreachable);
            return (localReference, local.Id);
        }

        var pushed = (await distribution.GetRepoDigestsAsync(localReference, cancellationToken) ?? [])
            .FirstOrDefault(d => d.StartsWith(repository + "@", StringComparison.Ordinal));
        if (pushed is not null)
        {
            return (pushed, pushed[(repository.Length + 1)..]);
        }

        var tag = local.Id.StartsWith("sha256:", StringComparison.Ordinal) ? local.Id[7..19] : BerthNames.ImageVersion(localReference);
        var target = $"{repository}:{tag}";
        try
        {
            await distribution.TagImageAsync(localReference, target, cancellationToken);
            var digest = await distribution.PushImageAsync(target, cancellationToken);
            Log.Pushed(logger, className, $"{repository}@{digest}");
            return ($"{repository}@{digest}", digest);
        }
        catch (ContainerRuntimeException ex) when (!required)
        {
            Log.RegistryUnreachable(logger, className, registry.Value.Address, localReference, ex.Message);
            return (localReference, local.Id);
        }
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 97), "...");
}

/// <summary>What a deploy or rollback did: the version, and its rollout (<see langword="null"/> when the version was made current directly).</summary>
/// <param name="Version">The deployed (or rolled back to) version.</param>
/// <param name="Rollout">The rollout's status when it started, or <see langword="null"/>.</param>
public sealed record DeployResult(ClassVersion Version, RolloutStatus? Rollout);

/// <summary>A version recorded at start-up.</summary>
/// <param name="Version">The version.</param>
/// <param name="First"><see langword="true"/> when it is the class's first version, made current at once; else it still needs a rollout.</param>
public sealed record StartupVersion(ClassVersion Version, bool First);
