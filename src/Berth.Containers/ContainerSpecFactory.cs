using Berth.Runtime;

namespace Berth.Containers;

/// <summary>What one start of a container object's container is made of, as given by the object.</summary>
/// <param name="ClassName">The container class.</param>
/// <param name="ObjectId">The object's ID.</param>
/// <param name="Image">The image reference to run.</param>
/// <param name="Network">The network to attach it to.</param>
/// <param name="DefaultPort">The class's default port.</param>
/// <param name="Ports">The ports to expose.</param>
/// <param name="InstanceType">The class's own instance type (the config's overrides it).</param>
/// <param name="ClassEnvVars">The class's environment variables (code).</param>
/// <param name="Entrypoint">The class's entrypoint, or <see langword="null"/> for the image's.</param>
/// <param name="StartOptions">The options of this start, overriding the class's.</param>
/// <param name="Runtime">The class's own OCI runtime, or <see langword="null"/> (the config's, then the node's, win over it).</param>
/// <param name="Init">The class's own init choice (the config's overrides it).</param>
/// <param name="ObjectName">The object's name when it was reached by name (label <c>berth.object-name</c>, which the CLI shows), else <see langword="null"/>.</param>
/// <param name="EgressProxy">The node's egress proxy for a filtered class (set as <c>HTTP_PROXY</c>/<c>HTTPS_PROXY</c>), or <see langword="null"/>.</param>
/// <param name="ExtraHosts">Hosts-file entries (<c>name:address</c>): the exact hosts of the class's outbound handlers, pointing at the egress proxy.</param>
/// <param name="Version">The recorded class version it runs (label <c>berth.version</c>), or <see langword="null"/> when the node records no versions (the label is then the image's tag).</param>
internal sealed record ContainerSpecInput(
    string ClassName,
    string ObjectId,
    string Image,
    string Network,
    int DefaultPort,
    IReadOnlyList<int> Ports,
    InstanceType InstanceType,
    IEnumerable<KeyValuePair<string, string>> ClassEnvVars,
    IReadOnlyList<string>? Entrypoint,
    ContainerStartOptions? StartOptions,
    string? Runtime = null,
    bool Init = false,
    string? ObjectName = null,
    System.Net.IPEndPoint? EgressProxy = null,
    IReadOnlyList<string>? ExtraHosts = null,
    int? Version = null);

/// <summary>
/// Builds the engine's container spec for a container object: name, labels, environment, ports and resources. The one
/// container spec is made; names and labels come from <see cref="BerthNames"/>, which the reconciler and tests match on too.
/// </summary>
internal static class ContainerSpecFactory
{
    /// <summary>The spec for one start.</summary>
    public static ContainerSpec Create(ContainerOptions node, ContainerClassOptions containerClass, ContainerSpecInput input)
    {
        var environment = new Dictionary<string, string>(containerClass.EnvVars, StringComparer.Ordinal);
        foreach (var (key, value) in input.ClassEnvVars)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in input.StartOptions?.EnvVars ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        if (input.EgressProxy is { } proxy)
        {
            // Convenience only: the network forces TCP 80/443 through the proxy whether the process reads these or not.
            var url = $"http://{proxy}";
            environment["HTTP_PROXY"] = environment["http_proxy"] = url;
            environment["HTTPS_PROXY"] = environment["https_proxy"] = url;
        }

        environment["BERTH_OBJECT_ID"] = input.ObjectId;
        environment["BERTH_CLASS"] = input.ClassName;
        environment["BERTH_APP"] = node.AppName;
        environment["BERTH_NODE"] = node.NodeName;
        environment["BERTH_LOCATION"] = node.Location;
        environment["BERTH_REGION"] = node.Region;

        var instanceType = containerClass.InstanceType ?? input.InstanceType;
        var labels = BerthNames.ForContainer(node.AppName, node.NodeId, input.ClassName, input.ObjectId, input.Image, node.ExtraLabels);
        if (input.ObjectName is { Length: > 0 } objectName)
        {
            labels[BerthLabels.ObjectName] = objectName;
        }

        if (input.Version is { } version)
        {
            labels[BerthLabels.Version] = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ContainerSpec
        {
            Name = BerthNames.Container(node.AppName, node.NodeId, input.ClassName, input.ObjectId),
            Image = input.Image,
            Entrypoint = input.StartOptions?.Entrypoint ?? input.Entrypoint,
            Environment = environment,
            Labels = labels,
            Ports = input.Ports,
            InstanceType = instanceType,
            PidsLimit = instanceType.PidsLimit,
            PublishPorts = containerClass.PublishPorts,
            Network = input.Network,
            ExtraHosts = input.ExtraHosts ?? [],
            Runtime = containerClass.Runtime ?? input.Runtime ?? node.Runtime,
            Init = containerClass.Init ?? input.Init,
        };
    }

    /// <summary>The ports to wait for: the required ports, the default port and <paramref name="port"/>.</summary>
    public static IReadOnlyList<int> PortsFor(int port, int defaultPort, IReadOnlyList<int> requiredPorts) =>
        port == defaultPort && requiredPorts.Count == 0 ? [port] : requiredPorts.Append(defaultPort).Append(port).Distinct().ToArray();
}
