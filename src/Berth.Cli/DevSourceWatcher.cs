namespace Berth.Cli;

/// <summary>
/// Watches the app's project directory for changes that need the app rebuilt and restarted (<c>*.cs</c>, project and
/// MSBuild files, <c>berth.jsonc</c>, <c>appsettings*.json</c>), leaving out <c>bin</c>, <c>obj</c>, dot-directories and
/// the data directory. Changes are debounced: <see cref="WaitForChangeAsync"/> returns once no further change came for
/// <see cref="Quiet"/> (on the given <see cref="TimeProvider"/>).
/// </summary>
internal sealed class DevSourceWatcher : IDisposable
{
    /// <summary>How long the files must stay unchanged before a change counts: 300 ms.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly string _root;
    private readonly string? _excluded;
    private readonly TimeProvider _timeProvider;
    private readonly FileSystemWatcher _watcher;
    private readonly Lock _gate = new();
    private TaskCompletionSource<string> _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _pending;
    private long _lastChange;

    /// <param name="projectDirectory">The directory of the app's project, watched with its subdirectories.</param>
    /// <param name="excludedDirectory">A directory under it to ignore (the data directory), or <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock the debounce runs on.</param>
    public DevSourceWatcher(string projectDirectory, string? excludedDirectory, TimeProvider timeProvider)
    {
        _root = Path.GetFullPath(projectDirectory);
        _excluded = excludedDirectory is null ? null : Path.GetFullPath(excludedDirectory);
        _timeProvider = timeProvider;
        _watcher = new FileSystemWatcher(_root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        _watcher.Changed += (_, e) => OnChange(e.FullPath);
        _watcher.Created += (_, e) => OnChange(e.FullPath);
        _watcher.Deleted += (_, e) => OnChange(e.FullPath);
        _watcher.Renamed += (_, e) => OnChange(e.FullPath);
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Whether a change to <paramref name="path"/> (under <paramref name="root"/>) means the app must be rebuilt.</summary>
    internal static bool IsAppSource(string root, string path, string? excludedDirectory)
    {
        var full = Path.GetFullPath(path);
        if (excludedDirectory is not null && (full == excludedDirectory || full.StartsWith(excludedDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            return false;
        }

        var relative = Path.GetRelativePath(root, full);
        if (relative.StartsWith("..", StringComparison.Ordinal))
        {
            return false;
        }

        var parts = relative.Split(Path.DirectorySeparatorChar);
        foreach (var directory in parts[..^1])
        {
            if (directory is "bin" or "obj" or "node_modules" || directory.StartsWith('.'))
            {
                return false;
            }
        }

        var name = parts[^1];
        return Path.GetExtension(name).ToLowerInvariant() is ".cs" or ".csproj" or ".props" or ".targets" or ".razor" or ".cshtml"
            || name.Equals("berth.jsonc", StringComparison.OrdinalIgnoreCase)
            || name.Equals("berth.json", StringComparison.OrdinalIgnoreCase)
            || (name.StartsWith("appsettings", StringComparison.OrdinalIgnoreCase) && name.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Waits for the next change (debounced) and returns the path of the last file that changed, relative to the project.</summary>
    public async Task<string> WaitForChangeAsync(CancellationToken cancellationToken)
    {
        Task<string> changed;
        lock (_gate)
        {
            changed = _changed.Task;
        }

        var path = await changed.WaitAsync(cancellationToken);
        lock (_gate)
        {
            if (_changed.Task == changed)
            {
                _changed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        return path;
    }

    public void Dispose() => _watcher.Dispose();

    private void OnChange(string path)
    {
        if (!IsAppSource(_root, path, _excluded))
        {
            return;
        }

        bool first;
        lock (_gate)
        {
            first = _pending is null;
            _pending = Path.GetRelativePath(_root, path);
            _lastChange = _timeProvider.GetTimestamp();
        }

        if (first)
        {
            _ = SettleAsync();
        }
    }

    /// <summary>Completes the change once <see cref="Quiet"/> has passed since the last event.</summary>
    private async Task SettleAsync()
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                wait = Quiet - _timeProvider.GetElapsedTime(_lastChange);
                if (wait <= TimeSpan.Zero)
                {
                    _changed.TrySetResult(_pending!);
                    _pending = null;
                    return;
                }
            }

            await Task.Delay(wait, _timeProvider, CancellationToken.None);
        }
    }
}
