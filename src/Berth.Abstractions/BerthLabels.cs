namespace Berth;

/// <summary>
/// Labels Berth puts on every container, image and network it creates, so that a restarted
/// platform can find, adopt or remove what it left behind.
/// </summary>
public static class BerthLabels
{
    /// <summary>Present (value <c>1</c>) on everything Berth manages.</summary>
    public const string Managed = "berth.managed";

    /// <summary>The application (host) that owns the resource.</summary>
    public const string App = "berth.app";

    /// <summary>The container class (<c>class_name</c>) of the owning object.</summary>
    public const string Class = "berth.class";

    /// <summary>The durable object ID that owns the container.</summary>
    public const string ObjectId = "berth.object";

    /// <summary>
    /// The object's name, when the object was reached by name (<c>IdFromName</c>/<c>GetByName</c>); absent for objects made
    /// with a unique ID. Shown by <c>berth containers list</c>.
    /// </summary>
    public const string ObjectName = "berth.object-name";

    /// <summary>The image version the container runs: for images Berth built, the content hash that is also their tag.</summary>
    public const string Version = "berth.version";

    /// <summary>The full image reference a container was created from.</summary>
    public const string Image = "berth.image";

    /// <summary>The node (silo) that started the container.</summary>
    public const string Node = "berth.node";

    /// <summary>
    /// In a cluster, the cluster's ID on every container its nodes start. A node hands over (and may remove) only containers
    /// of its own cluster, so two clusters that share a Docker engine, an app name and a node ID never touch each other's.
    /// </summary>
    public const string Cluster = "berth.cluster";

    /// <summary>Present (value <c>1</c>) on everything a test creates; test runs remove leftovers by it.</summary>
    public const string Test = "berth.test";

    /// <summary>
    /// Present (value <c>1</c>) on a container the node created for a class's warm pool. It carries no
    /// <see cref="ObjectId"/>: labels cannot change after create, so the object that claims it is recorded by the node
    /// (<c>{data}/warm-pool/claims</c>) and in the object's own storage.
    /// </summary>
    public const string WarmPool = "berth.warm-pool";
}
