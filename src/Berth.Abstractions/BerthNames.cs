using System.Security.Cryptography;
using System.Text;

namespace Berth;

/// <summary>
/// The one source of the names and label sets Berth gives the containers, networks and images it
/// creates, and of image-reference parsing. The runtime, the reconciler, the image builder, the admin
/// API, tests and benchmarks all build and read names through here, so they cannot drift apart.
/// </summary>
public static class BerthNames
{
    /// <summary>The prefix of every container, network and image name Berth creates.</summary>
    public const string Prefix = "berth";

    /// <summary>The tag an image reference without one resolves to.</summary>
    public const string DefaultTag = "latest";

    /// <summary>Longest node ID allowed, in characters.</summary>
    public const int MaxNodeIdLength = 32;

    /// <summary>
    /// Whether <paramref name="nodeId"/> can identify a node: 1–<see cref="MaxNodeIdLength"/> lowercase ASCII letters,
    /// digits or '-', starting with a letter or digit (it becomes part of container names and a label value).
    /// </summary>
    /// <param name="nodeId">A candidate node ID.</param>
    public static bool IsValidNodeId(string? nodeId) =>
        nodeId is { Length: > 0 and <= MaxNodeIdLength }
        && (char.IsAsciiLetterLower(nodeId[0]) || char.IsAsciiDigit(nodeId[0]))
        && nodeId.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>A new random node ID: 12 lowercase hexadecimal digits (48 random bits).</summary>
    public static string NewNodeId() =>
        Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    /// <summary>
    /// The name of an object's container: <c>berth-{app}-{node}-{class}-{objectId}</c> in lowercase. The node
    /// ID is part of it so two nodes of one app on one engine never create, or remove, each other's container.
    /// </summary>
    /// <param name="app">The app name.</param>
    /// <param name="nodeId">The node's stable identity (see <see cref="BerthLabels.Node"/>).</param>
    /// <param name="className">The container class.</param>
    /// <param name="objectId">The owning durable object's ID.</param>
    /// <exception cref="ArgumentException">A part is empty.</exception>
    public static string Container(string app, string nodeId, string className, string objectId)
    {
        ArgumentException.ThrowIfNullOrEmpty(app);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentException.ThrowIfNullOrEmpty(className);
        ArgumentException.ThrowIfNullOrEmpty(objectId);
        return $"{Prefix}-{app}-{nodeId}-{className}-{objectId}".ToLowerInvariant();
    }

    /// <summary>
    /// The name of the app's network: <c>berth-{app}</c> for containers with a route out,
    /// <c>berth-{app}-internal</c> for those without. Shared by every node of the app on one engine.
    /// </summary>
    /// <param name="app">The app name.</param>
    /// <param name="enableInternet">Whether the network has a route out.</param>
    public static string Network(string app, bool enableInternet)
    {
        ArgumentException.ThrowIfNullOrEmpty(app);
        return enableInternet ? $"{Prefix}-{app}" : $"{Prefix}-{app}-internal";
    }

    /// <summary>The prefix of every bridge interface Berth's networks create on the host (<c>bb-</c>); firewall rules match <c>bb-+</c>.</summary>
    public const string BridgeInterfacePrefix = "bb-";

    /// <summary>
    /// The host interface name of a Berth network's bridge: <c>bb-</c> and the first 8 hexadecimal digits of the SHA-256
    /// of <paramref name="networkName"/> (11 characters, within Linux's 15). Deterministic, so the host firewall can match
    /// every Berth bridge with <c>-i bb-+</c> and any node computes the same name for the same network.
    /// </summary>
    /// <param name="networkName">The network's name, for example <c>berth-shop-internal</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="networkName"/> is empty.</exception>
    public static string BridgeInterface(string networkName)
    {
        ArgumentException.ThrowIfNullOrEmpty(networkName);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(networkName));
        return BridgeInterfacePrefix + Convert.ToHexStringLower(hash, 0, 4);
    }

    /// <summary>The image repository of a class's built images: <c>berth-{app}-{class}</c> in lowercase, <c>_</c> as <c>-</c>.</summary>
    /// <param name="app">The app name.</param>
    /// <param name="className">The container class.</param>
    public static string ImageRepository(string app, string className) =>
        // Image names allow lowercase letters, digits and separators, never a separator at the end.
        $"{Prefix}-{app}-{className}".ToLowerInvariant().Replace('_', '-').TrimEnd('-');

    /// <summary>
    /// Splits an image reference into repository and tag (<c>repo[:tag][@digest]</c>); a colon before the last
    /// slash belongs to a registry host (<c>localhost:5000/app</c>), not a tag. A missing tag is <see cref="DefaultTag"/>.
    /// </summary>
    /// <param name="reference">An image reference such as <c>my-api:1.0</c>.</param>
    public static (string Repository, string Tag) SplitImageReference(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        var named = at >= 0 ? reference[..at] : reference;
        var colon = named.LastIndexOf(':');
        return colon > named.LastIndexOf('/') ? (named[..colon], named[(colon + 1)..]) : (named, DefaultTag);
    }

    /// <summary>
    /// The version an image reference names, for the <see cref="BerthLabels.Version"/> label: its tag (a content
    /// hash for images Berth built), or the whole reference when it has no tag.
    /// </summary>
    /// <param name="reference">An image reference.</param>
    public static string ImageVersion(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var colon = reference.LastIndexOf(':');
        return colon > reference.LastIndexOf('/') ? reference[(colon + 1)..] : reference;
    }

    /// <summary>The labels that select everything Berth manages for one app (on every node).</summary>
    /// <param name="app">The app name.</param>
    public static Dictionary<string, string> ForApp(string app) =>
        new(StringComparer.Ordinal) { [BerthLabels.Managed] = "1", [BerthLabels.App] = app };

    /// <summary>The labels that select the containers one node of an app left: what that node reconciles.</summary>
    /// <param name="app">The app name.</param>
    /// <param name="nodeId">The node's stable identity.</param>
    public static Dictionary<string, string> ForNode(string app, string nodeId)
    {
        var labels = ForApp(app);
        labels[BerthLabels.Node] = nodeId;
        return labels;
    }

    /// <summary>The labels that select one class's images or containers of an app.</summary>
    /// <param name="app">The app name.</param>
    /// <param name="className">The container class.</param>
    public static Dictionary<string, string> ForClass(string app, string className)
    {
        var labels = ForApp(app);
        labels[BerthLabels.Class] = className;
        return labels;
    }

    /// <summary>The labels of an app's network: <paramref name="extra"/> (for example <c>berth.test=1</c>) plus the app's.</summary>
    /// <param name="app">The app name.</param>
    /// <param name="extra">Labels added first; Berth's own win on a clash.</param>
    public static Dictionary<string, string> ForNetwork(string app, IEnumerable<KeyValuePair<string, string>>? extra = null) =>
        Merge(extra, ForApp(app));

    /// <summary>The labels of a class's image built with content hash <paramref name="version"/>.</summary>
    /// <param name="app">The app name.</param>
    /// <param name="className">The container class.</param>
    /// <param name="version">The image's version (its content-hash tag).</param>
    public static Dictionary<string, string> ForImage(string app, string className, string version)
    {
        var labels = ForClass(app, className);
        labels[BerthLabels.Version] = version;
        return labels;
    }

    /// <summary>
    /// The labels of an object's container: managed, app, node, class, object, image and its version,
    /// after <paramref name="extra"/> (Berth's own win on a clash).
    /// </summary>
    /// <param name="app">The app name.</param>
    /// <param name="nodeId">The node's stable identity, which reconciles the container after a restart.</param>
    /// <param name="className">The container class.</param>
    /// <param name="objectId">The owning durable object's ID.</param>
    /// <param name="image">The image reference the container is created from.</param>
    /// <param name="extra">Labels added first (for example <c>berth.test=1</c>).</param>
    public static Dictionary<string, string> ForContainer(
        string app, string nodeId, string className, string objectId, string image, IEnumerable<KeyValuePair<string, string>>? extra = null)
    {
        var own = ForNode(app, nodeId);
        own[BerthLabels.Class] = className;
        own[BerthLabels.ObjectId] = objectId;
        own[BerthLabels.Image] = image;
        own[BerthLabels.Version] = ImageVersion(image);
        return Merge(extra, own);
    }

    /// <summary>The value of <paramref name="label"/> in <paramref name="labels"/>, or the empty string.</summary>
    /// <param name="labels">A resource's labels.</param>
    /// <param name="label">A label key such as <see cref="BerthLabels.ObjectId"/>.</param>
    public static string Label(IReadOnlyDictionary<string, string> labels, string label)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return labels.TryGetValue(label, out var value) ? value : "";
    }

    private static Dictionary<string, string> Merge(IEnumerable<KeyValuePair<string, string>>? extra, Dictionary<string, string> own)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? [])
        {
            result[key] = value;
        }

        foreach (var (key, value) in own)
        {
            result[key] = value;
        }

        return result;
    }
}
