using Berth.Containers;
using Berth.Objects;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// A node's stable identity, kept in its data directory: generated the first time the node starts and read back on
/// every restart, so a restarted node adopts the containers it left and never touches another node's.
/// </summary>
public static class NodeIdentity
{
    /// <summary>Name of the file, in the node's data directory, that holds its ID.</summary>
    public const string FileName = "node-id";

    /// <summary>
    /// Returns the node ID kept in <paramref name="dataDirectory"/>, creating the directory and a new ID
    /// (<see cref="BerthNames.NewNodeId"/>) the first time. Two processes starting on one directory at once get the same ID.
    /// </summary>
    /// <param name="dataDirectory">The node's data directory (<see cref="DurableObjectOptions.DataDirectory"/>); relative to the current directory.</param>
    /// <returns>The node ID: lowercase letters, digits and '-', at most <see cref="BerthNames.MaxNodeIdLength"/> characters.</returns>
    /// <exception cref="InvalidOperationException">The file exists but does not hold a valid node ID (it is never replaced silently:
    /// a new ID would leave the node's containers unadopted).</exception>
    /// <exception cref="IOException">The directory or file cannot be read or written.</exception>
    public static string LoadOrCreate(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var directory = Path.GetFullPath(dataDirectory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(directory);
            var temporary = Path.Combine(directory, $"{FileName}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(temporary, BerthNames.NewNodeId() + "\n");
            try
            {
                // Atomic publish: a node that crashes mid-write never leaves a half ID, and of two racing starts one wins.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }

        var id = File.ReadAllText(path).Trim();
        return BerthNames.IsValidNodeId(id)
            ? id
            : throw new InvalidOperationException(
                $"The node ID file {path} holds '{id}', which is not a node ID (1–{BerthNames.MaxNodeIdLength} lowercase letters, digits or '-'). " +
                "Restore it, or delete it to give this node a new identity (containers the old one left are then not adopted).");
    }
}

/// <summary>Gives <see cref="ContainerOptions.NodeId"/>, when code or configuration left it empty, the ID kept in the data directory.</summary>
internal sealed class NodeIdentityOptions(IOptions<DurableObjectOptions> objects) : IPostConfigureOptions<ContainerOptions>
{
    public void PostConfigure(string? name, ContainerOptions options)
    {
        if (string.IsNullOrEmpty(options.NodeId))
        {
            options.NodeId = NodeIdentity.LoadOrCreate(objects.Value.DataDirectory);
        }
    }
}
