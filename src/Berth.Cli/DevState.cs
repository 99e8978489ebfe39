using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Cli;

/// <summary>
/// What a running <c>berth dev</c> leaves for the other commands: the app's address and where its admin token is, in
/// <c>.berth/dev.json</c> under the project directory. <c>berth containers …</c> run in that directory (or below it)
/// reads it, so neither <c>--host</c> nor <c>--data-dir</c> is needed while the dev loop runs.
/// </summary>
/// <param name="Host">The app's address, such as <c>http://127.0.0.1:8787/</c>.</param>
/// <param name="DataDirectory">Full path of the app's data directory, where the host writes its generated <c>admin-token</c>.</param>
/// <param name="Token">The admin token itself when <c>berth dev</c> chose it; <see langword="null"/> to read it from <paramref name="DataDirectory"/>.</param>
/// <param name="ProcessId">Process ID of the <c>berth dev</c> that wrote the file; a file whose process is gone is ignored.</param>
/// <param name="StartedAt">When the dev loop started (UTC).</param>
/// <param name="Watch">Whether <c>berth dev</c> restarts the app when its sources change (not <c>--no-watch</c>); a file without it: <see langword="true"/>.</param>
/// <param name="Stopping">
/// Set when <c>berth dev</c> stops the app for good (Ctrl+C, SIGTERM), before it does: <c>berth tail</c> then knows the host
/// that ends its stream will not come back, rather than being restarted.
/// </param>
internal sealed record DevState(
    Uri Host,
    string DataDirectory,
    string? Token,
    int ProcessId,
    DateTimeOffset StartedAt,
    bool Watch = true,
    bool Stopping = false)
{
    /// <summary>Whether this <c>berth dev</c> restarts an app that stops: it watches the sources and is not stopping itself.</summary>
    public bool RestartsTheApp => Watch && !Stopping;

    /// <summary>The directory, under the project directory, that holds the state file.</summary>
    public const string DirectoryName = ".berth";

    /// <summary>The state file's name inside <see cref="DirectoryName"/>.</summary>
    public const string FileName = "dev.json";

    /// <summary>Largest state file read (bytes); a bigger file is ignored, not read into memory.</summary>
    private const long MaxFileBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The state file of the project in <paramref name="projectDirectory"/>: <c>{projectDirectory}/.berth/dev.json</c>.</summary>
    public static string PathFor(string projectDirectory) =>
        Path.Combine(Path.GetFullPath(projectDirectory), DirectoryName, FileName);

    /// <summary>
    /// Writes <paramref name="state"/> for the project in <paramref name="projectDirectory"/>, atomically (a reader never
    /// sees half a file) and, on Unix, readable by the owner only (it may hold the token).
    /// </summary>
    /// <returns>The file's full path.</returns>
    /// <exception cref="IOException">The file could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static async Task<string> WriteAsync(string projectDirectory, DevState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var path = PathFor(projectDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(temporary, options))
        {
            await JsonSerializer.SerializeAsync(file, state, Json, cancellationToken);
        }

        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// Reads the state of the nearest project at or above <paramref name="directory"/> whose <c>berth dev</c> still runs;
    /// <see langword="null"/> when there is none, or the file is unreadable, too big or left by a process that has ended.
    /// </summary>
    public static DevState? Find(string directory)
    {
        for (var current = new DirectoryInfo(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            if (TryRead(PathFor(current.FullName)) is { } state)
            {
                return state;
            }
        }

        return null;
    }

    /// <summary>Reads one state file; <see langword="null"/> when missing, unreadable, too big, invalid or stale.</summary>
    public static DevState? TryRead(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes)
            {
                return null;
            }

            var state = JsonSerializer.Deserialize<DevState>(File.ReadAllText(path), Json);
            return state is { Host.IsAbsoluteUri: true, Host.Scheme: "http" or "https", DataDirectory.Length: > 0 } && IsRunning(state.ProcessId)
                ? state
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Removes the project's state file if it is the one <paramref name="processId"/> wrote; missing is fine.</summary>
    public static void Delete(string projectDirectory, int processId)
    {
        var path = PathFor(projectDirectory);
        try
        {
            var state = File.Exists(path) ? JsonSerializer.Deserialize<DevState>(File.ReadAllText(path), Json) : null;
            if (state is not null && state.ProcessId == processId)
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // A state file that cannot be read or removed is ignored by readers once the process is gone.
        }
    }

    private static bool IsRunning(int processId)
    {
        if (processId <= 0)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
