using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Runtime;

/// <summary>
/// Berth's own base image, <c>berth/base:1</c>: busybox, glibc and OpenSSL from the host, imported through the
/// engine API. It lets apps run without a registry: a Dockerfile <c>FROM berth/base:1</c> that copies in a
/// Native AOT (or other glibc) binary is all a container needs.
/// </summary>
public static class BaseImage
{
    /// <summary>The image reference apps build <c>FROM</c>.</summary>
    public const string Reference = "berth/base:1";

    /// <summary>Label holding the hash of the host files the image was made from.</summary>
    public const string ContentLabel = "berth.base.content";

    /// <summary>Imports the base image unless an image made from the same host files exists.</summary>
    /// <returns><see langword="true"/> when it imported the image.</returns>
    public static async Task<bool> EnsureAsync(IImageOperations runtime, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var hash = BusyboxRootfs.ComputeContentHash();
        if (await runtime.InspectImageAsync(Reference, cancellationToken) is { } existing
            && existing.Labels.TryGetValue(ContentLabel, out var current) && current == hash)
        {
            return false;
        }

        using var rootfs = new MemoryStream();
        await BusyboxRootfs.WriteAsync(rootfs, cancellationToken);
        rootfs.Position = 0;
        await runtime.ImportImageAsync(rootfs, Reference, new Dictionary<string, string>
        {
            [BerthLabels.Managed] = "1",
            [ContentLabel] = hash,
        }, cancellationToken);
        return true;
    }
}
