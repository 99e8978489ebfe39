using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Berth.Containers;

/// <summary>Supplies the image a container class runs, for example by building its Dockerfile.</summary>
public interface IContainerImageProvider
{
    /// <summary>Returns the image reference for the class, building it when needed.</summary>
    Task<string> GetImageAsync(ContainerClassOptions containerClass, CancellationToken cancellationToken);
}
