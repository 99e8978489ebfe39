using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace Berth.Hosting;

/// <summary>One built dashboard file: its bytes, content type, ETag, and whether its name carries a content hash.</summary>
internal sealed record DashboardAsset(byte[] Content, string ContentType, string ETag, bool Immutable);

/// <summary>
/// The dashboard's built files, embedded in Berth.Hosting by its project file (resources named <c>BerthDashboard/{path}</c>,
/// from <c>dashboard/dist</c>). Only these exact paths are served, so no request path can reach anything else.
/// </summary>
internal sealed class DashboardAssets
{
    /// <summary>The prefix of the embedded resources' names.</summary>
    public const string ResourcePrefix = "BerthDashboard/";

    /// <summary>The dashboard's page.</summary>
    public const string IndexPath = "index.html";

    private readonly FrozenDictionary<string, DashboardAsset> _files;

    private DashboardAssets(FrozenDictionary<string, DashboardAsset> files) => _files = files;

    /// <summary>How many files there are.</summary>
    public int Count => _files.Count;

    /// <summary>Whether the assembly carries no dashboard (built without it).</summary>
    public bool IsEmpty => !_files.ContainsKey(IndexPath);

    /// <summary>Reads every <see cref="ResourcePrefix"/> resource of <paramref name="assembly"/>.</summary>
    public static DashboardAssets Load(Assembly assembly)
    {
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            if (!types.TryGetContentType(path, out var contentType))
            {
                contentType = "application/octet-stream";
            }
            else if (contentType.StartsWith("text/", StringComparison.Ordinal) || contentType is "application/javascript" or "text/javascript")
            {
                contentType += "; charset=utf-8";
            }

            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"";
            files[path] = new DashboardAsset(content, contentType, etag, path.StartsWith("assets/", StringComparison.Ordinal));
        }

        return new DashboardAssets(files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The file at <paramref name="path"/> (relative to <c>/_berth/dashboard/</c>), if the dashboard has it.</summary>
    public bool TryGet(string path, [NotNullWhen(true)] out DashboardAsset? asset) => _files.TryGetValue(path, out asset);
}
