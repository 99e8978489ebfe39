using System.IO.Enumeration;
using System.Text.Json;

namespace Berth.Cli;

/// <summary>A container class of the project's <c>berth.jsonc</c>, as <c>berth deploy</c> needs it.</summary>
/// <param name="ClassName">The class's <c>class_name</c>.</param>
/// <param name="Dockerfile">The Dockerfile's full path, or <see langword="null"/> when the class runs an image reference.</param>
/// <param name="ContextDirectory">The build context's full path (the Dockerfile's directory unless <c>image_build_context</c> says otherwise).</param>
internal sealed record ProjectClass(string ClassName, string? Dockerfile, string? ContextDirectory);

/// <summary>Reads the classes of <c>berth.jsonc</c> (or <c>berth.json</c>) in a directory; the host validates the file, this only finds paths.</summary>
internal static class ProjectClasses
{
    private static readonly string[] FileNames = ["berth.jsonc", "berth.json"];

    public static IReadOnlyList<ProjectClass>? Load(string directory)
    {
        var file = FileNames.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);
        if (file is null)
        {
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{file} is not valid JSON ({ex.Message}).");
        }

        using (document)
        {
            var classes = new List<ProjectClass>();
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("containers", out var containers) || containers.ValueKind != JsonValueKind.Array)
            {
                return classes;
            }

            foreach (var container in containers.EnumerateArray())
            {
                if (container.ValueKind != JsonValueKind.Object || !container.TryGetProperty("class_name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                var image = container.TryGetProperty("image", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "";
                var isDockerfile = Path.GetFileName(image).EndsWith("Dockerfile", StringComparison.OrdinalIgnoreCase)
                    || image.StartsWith("./", StringComparison.Ordinal) || image.StartsWith("../", StringComparison.Ordinal);
                if (!isDockerfile)
                {
                    classes.Add(new ProjectClass(name.GetString()!, null, null));
                    continue;
                }

                var dockerfile = Path.GetFullPath(Path.Combine(directory, image));
                var context = container.TryGetProperty("image_build_context", out var c) && c.ValueKind == JsonValueKind.String
                    ? Path.GetFullPath(Path.Combine(directory, c.GetString()!))
                    : Path.GetDirectoryName(dockerfile)!;
                classes.Add(new ProjectClass(name.GetString()!, dockerfile, context));
            }

            return classes;
        }
    }

    /// <summary>
    /// Writes <paramref name="contextDirectory"/> as a tar archive to <paramref name="output"/>, file by file (never whole in
    /// memory), leaving out what <c>.dockerignore</c> excludes (its <c>*</c>/<c>?</c> patterns and directory names; <c>!</c> lines re-include).
    /// </summary>
    public static async Task WriteContextAsync(string contextDirectory, string dockerfileRelative, Stream output, CancellationToken cancellationToken)
    {
        var ignore = File.Exists(Path.Combine(contextDirectory, ".dockerignore"))
            ? (await File.ReadAllLinesAsync(Path.Combine(contextDirectory, ".dockerignore"), cancellationToken))
                .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList()
            : [];
        await using var writer = new System.Formats.Tar.TarWriter(output, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true);
        foreach (var path in Directory.EnumerateFiles(contextDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(contextDirectory, path).Replace('\\', '/');
            if (relative != dockerfileRelative && relative != ".dockerignore" && Excluded(ignore, relative))
            {
                continue;
            }

            await writer.WriteEntryAsync(path, relative, cancellationToken);
        }
    }

    private static bool Excluded(List<string> patterns, string relative)
    {
        var excluded = false;
        foreach (var line in patterns)
        {
            var include = line.StartsWith('!');
            var pattern = (include ? line[1..] : line).Trim().TrimStart('/').TrimEnd('/');
            if (pattern.Length == 0)
            {
                continue;
            }

            // A pattern matches the path itself or any directory above it.
            var parts = relative.Split('/');
            for (var n = 1; n <= parts.Length; n++)
            {
                if (FileSystemName.MatchesSimpleExpression(pattern.Replace("**/", "*", StringComparison.Ordinal), string.Join('/', parts[..n]), ignoreCase: false))
                {
                    excluded = !include;
                    break;
                }
            }
        }

        return excluded;
    }
}
