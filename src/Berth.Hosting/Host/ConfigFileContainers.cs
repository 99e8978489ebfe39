using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>Applies a <c>containers[]</c> entry of the config file to the settings of the class with that name.</summary>
internal sealed class ConfigFileClassOptions(BerthAppConfig config) : IConfigureNamedOptions<ContainerClassOptions>
{
    public void Configure(ContainerClassOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, ContainerClassOptions options)
    {
        if (name is null || config.FindContainer(name) is not { } container)
        {
            return;
        }

        // A field the file does not set leaves what the class set in code.
        options.InstanceType = container.InstanceType ?? options.InstanceType;
        options.MaxInstances = container.MaxInstances ?? options.MaxInstances;
        options.SleepAfter = container.SleepAfter ?? options.SleepAfter;
        options.Runtime = container.Runtime ?? options.Runtime;
        options.Init = container.Init ?? options.Init;
        options.PrewarmedInstances = container.PrewarmedInstances ?? options.PrewarmedInstances;
        options.EnableInternet = container.EnableInternet ?? options.EnableInternet;
        options.AllowedHosts = container.AllowedHosts is { } allowed ? [.. allowed] : options.AllowedHosts;
        options.DeniedHosts = container.DeniedHosts is { } denied ? [.. denied] : options.DeniedHosts;
        options.RolloutStepPercentage = container.RolloutStepPercentage ?? options.RolloutStepPercentage;
        options.RolloutActiveGracePeriod = container.RolloutActiveGracePeriod ?? options.RolloutActiveGracePeriod;
        options.RolloutStopGracePeriod = container.RolloutStopGracePeriod ?? options.RolloutStopGracePeriod;
        if (container.Autoscaling is { } autoscaling)
        {
            var pool = options.Pool;
            pool.MinimumInstances = autoscaling.MinimumInstances ?? pool.MinimumInstances;
            pool.TargetConcurrency = autoscaling.TargetConcurrency ?? pool.TargetConcurrency;
            pool.CpuTarget = autoscaling.CpuTarget ?? pool.CpuTarget;
            pool.ScaleDownDelay = autoscaling.ScaleDownDelay ?? pool.ScaleDownDelay;
            pool.MaxQueuedRequests = autoscaling.MaxQueuedRequests ?? pool.MaxQueuedRequests;
            pool.QueueTimeout = autoscaling.QueueTimeout ?? pool.QueueTimeout;
        }

        if (container.Image is ImageReference reference)
        {
            options.Image = reference.Reference;
        }
    }
}

/// <summary>Resolves a class's image from the config file, building its Dockerfile when the content changed.</summary>
/// <remarks>Dockerfiles may build <c>FROM</c> Berth's own base image, imported here first when it is missing.</remarks>
internal sealed class ConfigFileImageProvider(AppImageBuilder images, IImageOperations runtime, BerthAppConfig config) : IContainerImageProvider
{
    public async Task<string> GetImageAsync(ContainerClassOptions containerClass, CancellationToken cancellationToken)
    {
        if (config.FindContainer(containerClass.ClassName) is { } container)
        {
            if (container.Image is DockerfileImage dockerfile && UsesBaseImage(dockerfile))
            {
                await BaseImage.EnsureAsync(runtime, cancellationToken);
            }

            return (await images.EnsureImageAsync(container, cancellationToken)).Reference;
        }

        return containerClass.Image ?? throw new ContainerRuntimeException(ContainerRuntimeError.ImageNotFound,
            $"Container class '{containerClass.ClassName}' has no image: add a containers[] entry with class_name \"{containerClass.ClassName}\" to {config.FilePath ?? "the config file"}.");
    }

    private static bool UsesBaseImage(DockerfileImage dockerfile) =>
        File.ReadLines(dockerfile.DockerfilePath).Any(line => line.TrimStart().StartsWith("FROM", StringComparison.OrdinalIgnoreCase)
            && line.Contains(BaseImage.Reference, StringComparison.Ordinal));
}

/// <summary>Builds the app's images when the host starts, so the first request does not wait for a build.</summary>
internal sealed partial class AppImageWarmup(
    ContainerClassRegistry classes,
    BerthAppConfig config,
    ClassImageStatus images,
    ILogger<AppImageWarmup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var container in config.Containers)
        {
            if (!classes.TryGet(container.ClassName, out _))
            {
                Log.UnregisteredClass(logger, container.ClassName);
            }
        }

        foreach (var containerClass in classes.Classes)
        {
            images.Pending(containerClass.Options.ClassName);
        }

        foreach (var containerClass in classes.Classes)
        {
            try
            {
                var image = await containerClass.GetImageAsync(cancellationToken);
                Log.ClassImageReady(logger, containerClass.Options.ClassName, image);
                images.Ready(containerClass.Options.ClassName);
            }
            catch (ContainerRuntimeException ex)
            {
                // Serve anyway: requests for this class answer with the reason until the image can be had.
                Log.ClassImageFailed(logger, containerClass.Options.ClassName, ex.Message);
                images.Failed(containerClass.Options.ClassName, ex.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
