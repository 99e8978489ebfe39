using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Cli;

/// <summary>
/// What a running <c>berth dev</c> leaves for the other commands: the app's address and where its admin token is, in
/// <c>.berth/dev.json</c> under the project directory. <c>berth containers …</c> run in that directory (or below it)
/// reads it, so neither <c>--host</c> nor <c>--data-dir</c> is needed while the dev loop runs.
/// </summary>
/// <param name="Host">The app's address, such as <c>http://127.0.0.1:8787/</c>.</param>
/// <param name="DataDirectory">Full path of the app's data directory, where the host writes its generated <c>admin-token</c>:
/// a new one each time the app starts, so the file holds no token of its own that a watch restart would make stale.</param>
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
    int ProcessId,
    DateTimeOffset StartedAt,
    bool Watch = true,
    bool Stopping = false)
{
    /// <summary>Whether this <c>berth dev</c> restarts an app that stops: it watches the sources and is not stopping itself.</summary>
    /// <remarks>Computed from the file's fields, so not one of them.</remarks>
    [JsonIgnore]
    public bool RestartsTheApp => Watch && !Stopping;

    /// <summary>The directory, under the project directory, that holds the state file.</summary>
    public const string DirectoryName = ".berth";

    /// <summary>The state file's name inside <see cref="DirectoryName"/>.</summary>
    public const string FileName = "dev.json";

    /// <summary>Largest state file read (bytes): 64 KiB; a bigger file is ignored, not read into memory.</summary>
    private const int MaxFileBytes = 64 * 1024;

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
    /// sees half a file) and, on Unix, readable by the owner only (it says where the admin token is).
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
    /// <see langword="null"/> when there is none, or the file is unreadable or left by a process that has ended. The walk
    /// up stops at the first directory holding a project (<c>*.csproj</c> or <c>berth.jsonc</c>): <c>berth dev</c> writes
    /// the file next to the <c>.csproj</c>, so one above it is not this project's.
    /// </summary>
    /// <param name="directory">Where to start, such as the current directory.</param>
    /// <param name="isBerthDev">Whether a running process ID is a <c>berth dev</c> (<see cref="IsBerthDevProcess(int)"/>).</param>
    /// <param name="ignored">Told, for each file found but not trusted, the file and why (a file of another user, a symlink, a FIFO, ...); may be <see langword="null"/>.</param>
    public static DevState? Find(string directory, Func<int, bool> isBerthDev, Action<string>? ignored)
    {
        for (var current = new DirectoryInfo(Path.GetFullPath(directory)); current is not null; current = current.Parent)
        {
            var path = PathFor(current.FullName);
            if (TryRead(path, isBerthDev, out var reason) is { } state)
            {
                return state;
            }

            if (reason is not null)
            {
                ignored?.Invoke($"ignored {path}: {reason}.");
            }

            if (IsProjectDirectory(current))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Reads one state file; <see langword="null"/> when missing, unreadable, stale or not to be trusted, with
    /// <paramref name="untrusted"/> then saying why when it is there but not trusted: not a regular file of this user that
    /// only this user may write (on Linux), larger than 64 KiB, invalid, its host not a loopback address (<c>berth dev</c>
    /// listens on 127.0.0.1 only), or its process running but not a <c>berth dev</c> of this user.
    /// </summary>
    public static DevState? TryRead(string path, Func<int, bool> isBerthDev, out string? untrusted)
    {
        untrusted = null;
        try
        {
            if (TrustedFile.Read(path, MaxFileBytes) is not { } bytes)
            {
                return null;
            }

            var state = JsonSerializer.Deserialize<DevState>(bytes, Json);
            if (state is not { Host.IsAbsoluteUri: true, Host.Scheme: "http" or "https", DataDirectory.Length: > 0 })
            {
                untrusted = "it is not a berth dev state";
                return null;
            }

            if (!IsLoopback(state.Host))
            {
                untrusted = $"its host {state.Host} is not a loopback address";
                return null;
            }

            if (!IsRunning(state.ProcessId))
            {
                // Left by a berth dev that has ended (killed, crashed): nothing to say.
                return null;
            }

            if (!isBerthDev(state.ProcessId))
            {
                untrusted = $"process {state.ProcessId} is not a berth dev";
                return null;
            }

            return state;
        }
        catch (UntrustedFileException ex)
        {
            untrusted = ex.Message;
            return null;
        }
        catch (JsonException)
        {
            untrusted = "it is not valid JSON";
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the running process <paramref name="processId"/> is a <c>berth dev</c> of this user: on Linux, it is owned
    /// by the effective user (the owner of <c>/proc/&lt;pid&gt;</c>) and its command line (<c>/proc/&lt;pid&gt;/cmdline</c>) has
    /// an argument named <c>berth</c> (<c>berth</c>, <c>berth.dll</c>, <c>berth.exe</c>, any directory) followed later by
    /// <c>dev</c>; elsewhere every running process counts.
    /// </summary>
    public static bool IsBerthDevProcess(int processId) => IsBerthDevProcess(processId, owner: null);

    /// <summary>As <see cref="IsBerthDevProcess(int)"/>, with the user ID that must own the process; <see langword="null"/> for the effective user's.</summary>
    internal static bool IsBerthDevProcess(int processId, uint? owner)
    {
        if (!OperatingSystem.IsLinux())
        {
            return IsRunning(processId);
        }

        // Another user's process is not this user's berth dev, whatever its command line: the file of a berth dev that
        // died would otherwise send the token to whoever got its PID and its port. Checked before and after the command
        // line is read, so a PID reused meanwhile by another user's process is not taken for this one.
        var required = owner ?? TrustedFile.EffectiveUserId;
        var process = $"/proc/{processId}";
        if (TrustedFile.OwnerOf(process) != required)
        {
            return false;
        }

        string[] arguments;
        try
        {
            arguments = File.ReadAllText($"/proc/{processId}/cmdline").Split('\0');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        var berth = Array.FindIndex(arguments, a => Path.GetFileName(a) is "berth" or "berth.dll" or "berth.exe");
        return berth >= 0 && Array.IndexOf(arguments, "dev", berth + 1) > berth && TrustedFile.OwnerOf(process) == required;
    }

    private static bool IsLoopback(Uri host) =>
        host.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
        && IPAddress.TryParse(host.IdnHost, out var address)
        && IPAddress.IsLoopback(address);

    private static bool IsProjectDirectory(DirectoryInfo directory)
    {
        try
        {
            return File.Exists(Path.Combine(directory.FullName, "berth.jsonc")) || directory.EnumerateFiles("*.csproj").Any();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Removes the project's state file if it is the one <paramref name="processId"/> wrote; missing is fine.</summary>
    public static void Delete(string projectDirectory, int processId)
    {
        var path = PathFor(projectDirectory);
        try
        {
            var state = TrustedFile.Read(path, MaxFileBytes) is { } bytes ? JsonSerializer.Deserialize<DevState>(bytes, Json) : null;
            if (state is not null && state.ProcessId == processId)
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or UntrustedFileException)
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
