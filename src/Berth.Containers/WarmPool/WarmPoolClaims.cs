using System.Text;
using Berth.Runtime;

namespace Berth.Containers;

/// <summary>
/// The node's durable record of which object claimed which prewarmed container, and the per-container identity
/// directories mounted at <see cref="WarmPool.IdentityMountPath"/>. Engine labels cannot change after create, so a
/// prewarmed container carries no object label; this table (under <c>{data}/warm-pool</c>) is what lets the reconciler
/// hand a claimed container back to its one owner after a node restart.
/// </summary>
internal sealed class WarmPoolClaims
{
    private readonly string _claims;
    private readonly string _identity;

    /// <param name="dataDirectory">The node's data directory (made absolute: the engine mounts from it).</param>
    public WarmPoolClaims(string dataDirectory)
    {
        var root = Path.Combine(Path.GetFullPath(dataDirectory), "warm-pool");
        _claims = Path.Combine(root, "claims");
        _identity = Path.Combine(root, "identity");
    }

    /// <summary>The host directory mounted into the prewarmed container named <paramref name="containerName"/>.</summary>
    public string IdentityDirectory(string containerName) => Path.Combine(_identity, containerName);

    /// <summary>Creates the (empty) identity directory of a new prewarmed container, readable by any user in it.</summary>
    public string CreateIdentityDirectory(string containerName)
    {
        var directory = IdentityDirectory(containerName);
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        return directory;
    }

    /// <summary>Writes the claiming object's identity into the container's identity directory (each file replaced atomically).</summary>
    public async Task WriteIdentityAsync(string directory, string objectId, string? objectName, string className, CancellationToken cancellationToken)
    {
        // Not flushed to disk: the files live as long as the container, and a node restart keeps the container's own view.
        await WriteAtomicAsync(Path.Combine(directory, "class"), className + "\n", durable: false, cancellationToken);
        if (objectName is { Length: > 0 })
        {
            await WriteAtomicAsync(Path.Combine(directory, "object-name"), objectName + "\n", durable: false, cancellationToken);
        }

        // Last: an app that waits for object-id finds the other files already there.
        await WriteAtomicAsync(Path.Combine(directory, "object-id"), objectId + "\n", durable: false, cancellationToken);
    }

    /// <summary>Records, durably (written through to disk before it returns), that <paramref name="objectId"/> owns <paramref name="containerId"/>.</summary>
    public Task RecordAsync(string containerId, string className, string objectId, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_claims);
        return WriteAtomicAsync(ClaimFile(containerId), $"{className}\n{objectId}\n", durable: true, cancellationToken);
    }

    /// <summary>The object that claimed <paramref name="containerId"/>, or <see langword="null"/>.</summary>
    public (string ClassName, string ObjectId)? OwnerOf(string containerId)
    {
        var file = ClaimFile(containerId);
        if (!File.Exists(file))
        {
            return null;
        }

        var lines = File.ReadAllLines(file);
        return lines.Length >= 2 && lines[0].Length > 0 && lines[1].Length > 0 ? (lines[0], lines[1]) : null;
    }

    /// <summary>Forgets the claim of <paramref name="containerId"/>.</summary>
    public void Remove(string containerId)
    {
        var file = ClaimFile(containerId);
        if (File.Exists(file))
        {
            File.Delete(file);
        }
    }

    /// <summary>Removes the claims and identity directories of containers the engine no longer has.</summary>
    /// <param name="live">This node's containers, as the engine lists them.</param>
    public void Prune(IReadOnlyCollection<ContainerSummary> live)
    {
        var ids = live.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var names = live.Select(c => c.Name.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
        if (Directory.Exists(_claims))
        {
            foreach (var file in Directory.EnumerateFiles(_claims))
            {
                if (!ids.Contains(Path.GetFileName(file)))
                {
                    File.Delete(file);
                }
            }
        }

        if (Directory.Exists(_identity))
        {
            foreach (var directory in Directory.EnumerateDirectories(_identity))
            {
                if (!names.Contains(Path.GetFileName(directory)))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }
    }

    /// <summary>Deletes an identity directory, if it is still there.</summary>
    public void DeleteIdentityDirectory(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Pruned at the next reconcile.
        }
    }

    private string ClaimFile(string containerId)
    {
        // Engine IDs are hexadecimal; anything else never names a file here.
        if (containerId.Length == 0 || !containerId.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"'{containerId}' is not an engine container ID.", nameof(containerId));
        }

        return Path.Combine(_claims, containerId);
    }

    private static async Task WriteAtomicAsync(string path, string text, bool durable, CancellationToken cancellationToken)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = durable ? FileOptions.WriteThrough : FileOptions.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        await using (var stream = new FileStream(temporary, options))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
            if (durable)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }
}
