using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Berth.Runtime;

namespace Berth.Hosting;

/// <summary>
/// A short hash of everything that goes into an image build: the Dockerfile, each file of the build context that
/// <c>.dockerignore</c> lets through (path, kind, permission bits, contents; symbolic links by target), and the
/// build arguments. Used as the image tag, so an image is rebuilt only when one of them changed.
/// </summary>
public static class ImageContentHash
{
    /// <summary>Length of the hex hash returned (48 bits).</summary>
    public const int Length = 12;

    // Bump when the hashed layout changes, so old tags are not mistaken for new ones.
    private static readonly byte[] FormatVersion = "berth-image-hash/1"u8.ToArray();

    /// <summary>Hashes the build described by <paramref name="image"/>.</summary>
    public static string Compute(DockerfileImage image) =>
        Compute(image.DockerfilePath, image.ContextDirectory, image.BuildArgs);

    /// <summary>Hashes a Dockerfile, its build context and its build arguments into <see cref="Length"/> lowercase hex characters.</summary>
    /// <param name="dockerfilePath">Path of the Dockerfile.</param>
    /// <param name="contextDirectory">The build context directory; a <c>.dockerignore</c> at its root is honoured.</param>
    /// <param name="buildArgs">Build arguments; their order does not matter.</param>
    public static string Compute(string dockerfilePath, string contextDirectory, IReadOnlyDictionary<string, string> buildArgs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(FormatVersion);

        // The Dockerfile counts even when .dockerignore excludes it: the engine still reads it.
        AppendString(hash, "dockerfile");
        AppendString(hash, File.ReadAllText(dockerfilePath));

        foreach (var (key, value) in buildArgs.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            AppendString(hash, "arg");
            AppendString(hash, key);
            AppendString(hash, value);
        }

        var root = new DirectoryInfo(contextDirectory);
        AppendDirectory(hash, root, root.FullName, DockerIgnore.Load(root.FullName));

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..Length];
    }

    private static void AppendDirectory(IncrementalHash hash, DirectoryInfo directory, string root, DockerIgnore ignore)
    {
        // Ordinal order so the hash does not depend on the file system's listing order or the culture.
        foreach (var entry in directory.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
            var excluded = ignore.IsExcluded(relative);
            if (entry.LinkTarget is { } target)
            {
                if (!excluded)
                {
                    AppendEntry(hash, "link", relative, entry);
                    AppendString(hash, target);
                }
            }
            else if (entry is DirectoryInfo subdirectory)
            {
                if (!excluded)
                {
                    AppendEntry(hash, "dir", relative, entry);
                }

                // An excluded directory may still hold files brought back by a '!' line.
                if (!excluded || ignore.HasExceptions)
                {
                    AppendDirectory(hash, subdirectory, root, ignore);
                }
            }
            else if (!excluded)
            {
                AppendEntry(hash, "file", relative, entry);
                using var stream = File.OpenRead(entry.FullName);
                AppendLength(hash, stream.Length);
                var buffer = new byte[81920];
                for (int read; (read = stream.Read(buffer)) > 0;)
                {
                    hash.AppendData(buffer, 0, read);
                }
            }
        }
    }

    private static void AppendEntry(IncrementalHash hash, string kind, string relativePath, FileSystemInfo entry)
    {
        AppendString(hash, kind);
        AppendString(hash, relativePath);
        AppendLength(hash, OperatingSystem.IsWindows() ? 0 : (long)entry.UnixFileMode);
    }

    // Length-prefixed, so that ("ab", "c") and ("a", "bc") hash differently.
    private static void AppendString(IncrementalHash hash, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        AppendLength(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void AppendLength(IncrementalHash hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        hash.AppendData(buffer);
    }
}
