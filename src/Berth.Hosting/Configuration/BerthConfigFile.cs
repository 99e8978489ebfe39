using System.Text.Json;

namespace Berth.Hosting;

/// <summary>Reads and validates an app's config file, <c>berth.jsonc</c> (JSON with comments and trailing commas).</summary>
public static class BerthConfigFile
{
    /// <summary>The file name looked for in the app's content root.</summary>
    public const string DefaultFileName = "berth.jsonc";

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Loads the file at <paramref name="path"/>; relative paths inside it are resolved against its directory.</summary>
    /// <exception cref="BerthConfigException">The file is missing, is not JSON, or breaks a rule; the message lists every problem.</exception>
    public static BerthAppConfig Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new BerthConfigException(fullPath, ["the file does not exist; create it or pass the path of an existing berth.jsonc"]);
        }

        return Parse(File.ReadAllText(fullPath), Path.GetDirectoryName(fullPath)!, fullPath);
    }

    /// <summary>Parses config text; relative paths inside it are resolved against <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="BerthConfigException">The text is not JSON or breaks a rule; the message lists every problem.</exception>
    public static BerthAppConfig Parse(string json, string baseDirectory) => Parse(json, baseDirectory, filePath: null);

    private static BerthAppConfig Parse(string json, string baseDirectory, string? filePath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            // The reader's own message ends with its zero-based position; report it one-based, as editors do.
            var reason = ex.Message.Split(" LineNumber:", 2)[0];
            throw new BerthConfigException(filePath,
                [$"line {ex.LineNumber + 1}, column {ex.BytePositionInLine + 1}: not valid JSON with comments: {reason}"]);
        }

        using (document)
        {
            var reader = new ConfigReader(Path.GetFullPath(baseDirectory));
            var config = reader.ReadApp(document.RootElement);
            return reader.Problems.Count > 0
                ? throw new BerthConfigException(filePath, reader.Problems)
                : config! with { FilePath = filePath };
        }
    }
}
