using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;

namespace Berth.Cli;

/// <summary>The <c>berth</c> command tree: <c>dev</c>, <c>containers list|logs|exec|stop|destroy</c>, <c>tail</c>, <c>deploy</c>, <c>versions list|show</c>, <c>rollouts status</c> and <c>rollback</c>.</summary>
internal sealed partial class BerthCli
{
    public const string DefaultHost = "http://127.0.0.1:8787";
    public const string TokenEnvironmentVariable = "BERTH_ADMIN_TOKEN";
    public const string HostEnvironmentVariable = "BERTH_HOST";
    private const string TokenFileName = "admin-token";

    /// <summary>Largest admin token file read (bytes): 4 KiB; the host writes a generated token of 64 hex characters there.</summary>
    internal const int MaxTokenFileBytes = 4 * 1024;

    /// <summary>Most bytes <c>exec -i</c> sends as the command's standard input.</summary>
    public const int MaxStdinBytes = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly Option<string?> _host = new("--host")
    {
        Description = $"Address of the running Berth host (default: ${HostEnvironmentVariable}, else the address 'berth dev' remembered in .berth/dev.json, else {DefaultHost})",
        Recursive = true,
    };

    private readonly Option<string?> _token = new("--token")
    {
        Description = $"Admin API token (default: ${TokenEnvironmentVariable}, else the token file in --data-dir)",
        Recursive = true,
    };

    private readonly Option<string> _dataDir = new("--data-dir")
    {
        Description = $"The app's data directory, where the host writes its generated '{TokenFileName}' (default: the one 'berth dev' remembered, else 'data')",
        DefaultValueFactory = _ => "data",
        Recursive = true,
    };

    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly Stream? _rawOutput;
    private readonly Stream? _rawError;
    private readonly CliEnvironment _environment;

    private BerthCli(TextWriter output, TextWriter error, Stream? rawOutput, Stream? rawError, CliEnvironment environment)
    {
        _output = output;
        _error = error;
        _rawOutput = rawOutput;
        _rawError = rawError;
        _environment = environment;
    }

    /// <summary>Parses and runs a command line, writing to the given writers; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        new BerthCli(output, error, null, null, CliEnvironment.Process(null)).InvokeAsync(args, cancellationToken);

    /// <summary>
    /// Parses and runs a command line, writing to the given writers; returns the exit code. When <paramref name="rawOutput"/> and
    /// <paramref name="rawError"/> are given (the process's standard streams), <c>containers exec</c> writes the command's bytes
    /// to them unchanged; otherwise it decodes them as UTF-8 into the writers.
    /// </summary>
    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Stream? rawOutput, Stream? rawError, CancellationToken cancellationToken = default) =>
        new BerthCli(output, error, rawOutput, rawError, CliEnvironment.Process(null)).InvokeAsync(args, cancellationToken);

    /// <summary>Parses and runs a command line in <paramref name="environment"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Stream? rawOutput, Stream? rawError, CliEnvironment environment,
        CancellationToken cancellationToken = default) =>
        new BerthCli(output, error, rawOutput, rawError, environment).InvokeAsync(args, cancellationToken);

    private async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Berth: run container apps written in C# locally, and inspect their containers.")
        {
            Options = { _host, _token, _dataDir },
            Subcommands = { DevCommand.Create(_dataDir, _output, _error), CreateContainersCommand(), CreateDeployCommand(), CreateVersionsCommand(), CreateRolloutsCommand(), CreateRollbackCommand(), CreateUsageCommand(), CreateTailCommand() },
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await _error.WriteLineAsync($"berth: {parseError.Message}");
            }

            var names = new List<string>();
            for (var result = parseResult.CommandResult; result.Parent is CommandResult parent; result = parent)
            {
                names.Insert(0, result.Command.Name);
            }

            await _error.WriteLineAsync(names.Count == 0 ? "Run 'berth --help' for usage." : $"Run 'berth {string.Join(' ', names)} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = _output,
            Error = _error,
            EnableDefaultExceptionHandler = false,

            // `berth dev` bounds its own stop (--stop-timeout, at most an hour) and lets the app stop its containers with their grace.
            ProcessTerminationTimeout = TimeSpan.FromHours(1) + TimeSpan.FromSeconds(30),
        };
        try
        {
            return await parseResult.InvokeAsync(invocation, cancellationToken);
        }
        catch (Exception ex)
        {
            await _error.WriteLineAsync($"berth: unexpected error, please report it: {ex}");
            return ExitCodes.InternalError;
        }
    }

    private Command CreateContainersCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table or text (one object per line for logs)" };

        var list = new Command("list", "List the app's containers: class, object name, state, image, uptime") { json };
        list.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var containers = await client.ListAsync(ct);
            if (parse.GetValue(json))
            {
                await _output.WriteLineAsync(JsonSerializer.Serialize(containers, Json));
            }
            else
            {
                await _output.WriteAsync(ContainerTable.Render(containers, _environment.Time.GetUtcNow()));
            }

            return ExitCodes.Success;
        }));

        var follow = new Option<bool>("--follow", "-f") { Description = "Keep streaming new lines until Ctrl+C" };
        var tail = new Option<int?>("--tail", "-n") { Description = "Start with the last N lines" };
        tail.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError($"--tail {result.GetValueOrDefault<int?>()} is not allowed; allowed: a number of lines ≥ 0.");
            }
        });
        var since = new Option<string?>("--since") { Description = $"Only lines since then: {SinceParser.Allowed}" };
        var noTimestamps = new Option<bool>("--no-timestamps") { Description = "Leave out each line's time" };
        var platform = new Option<bool>("--platform") { Description = "Also print the platform's own log records about this object (stream 'platform')" };
        var (logTarget, logId) = TargetArguments();
        var logs = new Command("logs", "Print a container's output: each line with its time (UTC) and stream (out/err)")
        {
            logTarget, logId, follow, tail, since, noTimestamps, json, platform,
        };
        RequireTarget(logs, logTarget);
        logs.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var target = ContainerTarget.Parse(parse.GetValue(logTarget)!, parse.GetValue(logId));
            var from = parse.GetValue(since) is { } s ? SinceParser.Parse(s, _environment.Time.GetUtcNow()) : (DateTimeOffset?)null;
            var asJson = parse.GetValue(json);
            var timestamps = !parse.GetValue(noTimestamps);
            await client.StreamLogsAsync(target.Class, target.Object, parse.GetValue(follow), parse.GetValue(tail), from, parse.GetValue(platform), async (raw, entry, token) =>
            {
                await _output.WriteLineAsync(asJson ? raw : FormatLogLine(entry, timestamps));
                await _output.FlushAsync(token);
            }, ct);
            return ExitCodes.Success;
        }));

        var interactive = new Option<bool>("--interactive", "-i")
        {
            Description = $"Send berth's standard input to the command (read to its end first, at most {MaxStdinBytes / 1024 / 1024} MiB)",
        };
        var tty = new Option<bool>("--tty", "-t") { Description = "Give the command a terminal (not supported yet: see docs/cli.md)" };
        var execTarget = new Argument<string?>("target") { Description = ContainerTarget.Usage, Arity = ArgumentArity.ZeroOrOne };
        var command = new Argument<string[]>("command")
        {
            Description = "Command and arguments to run; put them after -- (with the two-argument form, the object ID comes first)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var exec = new Command("exec", "Run a command in a container and print its output; exits with the command's exit code")
        {
            execTarget, command, interactive, tty,
        };
        exec.Validators.Add(result =>
        {
            if (result.GetValue(execTarget) is null)
            {
                result.AddError($"Missing argument <target>: give {ContainerTarget.Usage}, then -- and the command.");
            }
            else if (result.GetValue(command) is not { Length: > 0 } rest || (!result.GetValue(execTarget)!.Contains('/', StringComparison.Ordinal) && rest.Length < 2))
            {
                result.AddError("Missing argument <command>: give the command to run after --, such as: berth containers exec Sandbox/session-1 -- ls -l");
            }
        });
        exec.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            if (parse.GetValue(tty))
            {
                throw new CliException(ExitCodes.Usage,
                    "exec -t is not supported yet: the admin API streams the command's output but gives it no terminal. "
                    + "Use -i to send standard input (such as: echo 'ls /' | berth containers exec -i Sandbox/s1 -- sh).");
            }

            var targetText = parse.GetRequiredValue(execTarget)!;
            var rest = parse.GetRequiredValue(command);
            var hasSlash = targetText.Contains('/', StringComparison.Ordinal);
            var target = ContainerTarget.Parse(targetText, hasSlash ? null : rest[0]);
            var commandLine = hasSlash ? rest : rest[1..];
            var stdin = parse.GetValue(interactive) ? await ReadStdinAsync(ct) : null;
            var stdout = new ExecOutput(_output, _rawOutput);
            var stderr = new ExecOutput(_error, _rawError);
            var exitCode = await client.ExecAsync(target.Class, target.Object, commandLine, stdin,
                (isError, data, token) => (isError ? stderr : stdout).WriteAsync(data, token), ct);
            await stdout.CompleteAsync(ct);
            await stderr.CompleteAsync(ct);
            return exitCode;
        }));

        var grace = new Option<int?>("--grace") { Description = "Seconds between SIGTERM and SIGKILL (default: the host's, 10)" };
        var (stopTarget, stopId) = TargetArguments();
        var stop = new Command("stop", "Stop a container: SIGTERM, then SIGKILL after the grace period") { stopTarget, stopId, grace, json };
        RequireTarget(stop, stopTarget);
        stop.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var target = ContainerTarget.Parse(parse.GetValue(stopTarget)!, parse.GetValue(stopId));
            var result = await client.StopAsync(target.Class, target.Object, parse.GetValue(grace), ct);
            await _output.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(result, Json)
                : $"Stopped {target.Describe(result.Object)} (container {Short(result.Id)}), exit code {result.ExitCode}{(result.OomKilled ? ", killed for using too much memory" : "")}.");
            return ExitCodes.Success;
        }));

        var (destroyTarget, destroyId) = TargetArguments();
        var destroy = new Command("destroy", "Remove a container at once (SIGKILL, no grace period); its object records a requested stop")
        {
            destroyTarget, destroyId, json,
        };
        RequireTarget(destroy, destroyTarget);
        destroy.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var target = ContainerTarget.Parse(parse.GetValue(destroyTarget)!, parse.GetValue(destroyId));
            var result = await client.DestroyAsync(target.Class, target.Object, ct);
            await _output.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(result, Json)
                : $"Destroyed {target.Describe(result.Object)} (container {Short(result.Id)}).");
            return ExitCodes.Success;
        }));

        return new Command("containers", "Inspect the containers of a running app through its admin API")
        {
            Subcommands = { list, logs, exec, stop, destroy },
        };
    }

    /// <summary>The <c>target</c> argument (<c>Class/name</c>, or the class) and the optional object ID after it.</summary>
    private static (Argument<string?> Target, Argument<string?> Id) TargetArguments()
    {
        // Optional to the parser, so that a missing one is reported by name (RequireTarget), not as "required argument missing".
        var target = new Argument<string?>("target") { Description = ContainerTarget.Usage, Arity = ArgumentArity.ZeroOrOne };
        var id = new Argument<string?>("id")
        {
            Description = "The object ID or a prefix of it, when target is only the class",
            Arity = ArgumentArity.ZeroOrOne,
        };
        return (target, id);
    }

    /// <summary>Makes <paramref name="command"/> refuse a command line without <paramref name="target"/>, naming it and its forms.</summary>
    private static void RequireTarget(Command command, Argument<string?> target) =>
        command.Validators.Add(result =>
        {
            if (result.GetValue(target) is null)
            {
                result.AddError($"Missing argument <target>: give {ContainerTarget.Usage}.");
            }
        });

    internal static string FormatLogLine(LogEntry entry, bool timestamps)
    {
        var stream = entry.Stream switch
        {
            "stderr" => "err",
            "platform" => $"platform {entry.Level}{(entry.Event is { } e ? " " + e : "")}",
            _ => "out",
        };
        return timestamps && entry.Time is { } time
            ? $"{time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)} {stream} | {TerminalText.Escape(entry.Text)}"
            : $"{stream} | {TerminalText.Escape(entry.Text)}";
    }

    private async Task<byte[]> ReadStdinAsync(CancellationToken cancellationToken)
    {
        var input = _environment.Input ?? throw new CliException(ExitCodes.Usage, "exec -i: berth has no standard input to send.");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await input.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxStdinBytes)
            {
                throw new CliException(ExitCodes.Usage,
                    $"exec -i: standard input is larger than {MaxStdinBytes / 1024 / 1024} MiB; allowed: at most {MaxStdinBytes} bytes. Copy big files into the image instead.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Resolves host and token, runs <paramref name="action"/> and maps failures to messages and exit codes.</summary>
    private Task<int> RunAdminAsync(ParseResult parse, Func<AdminClient, Task<int>> action) =>
        RunAdminAsync(parse, (client, _) => action(client));

    /// <summary>As <see cref="RunAdminAsync(ParseResult, Func{AdminClient, Task{int}})"/>, also giving the running <c>berth dev</c> the host was found through (else <see langword="null"/>).</summary>
    private async Task<int> RunAdminAsync(ParseResult parse, Func<AdminClient, DevState?, Task<int>> action)
    {
        try
        {
            var (host, hostSource, dev) = await ResolveHostAsync(parse.GetValue(_host));
            var dataDirectory = parse.GetResult(_dataDir) is { Implicit: false } || dev is null
                ? parse.GetRequiredValue(_dataDir)
                : dev.DataDirectory;
            // Resolved again before every request, the same way: a restarted host (berth dev's watch restart) writes a new
            // token file, while --token or $BERTH_ADMIN_TOKEN stays as given. Once now, so a missing token fails before any work.
            var option = parse.GetValue(_token);
            Func<ResolvedToken> resolveToken = () => ResolveToken(option, dataDirectory);
            resolveToken();
            using var client = AdminClient.Create(host, hostSource, resolveToken, _environment.Time, _environment.Handler);
            return await action(client, dev);
        }
        catch (CliException ex)
        {
            await _error.WriteLineAsync($"berth: {ex.Message}");
            return ex.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>--host, else $BERTH_HOST, else the address a running <c>berth dev</c> remembered, else <see cref="DefaultHost"/>.</summary>
    private async Task<(Uri Host, string Source, DevState? Dev)> ResolveHostAsync(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return (ParseHost(option, "--host"), "from --host", null);
        }

        if (_environment.GetVariable(HostEnvironmentVariable) is { } variable && !string.IsNullOrWhiteSpace(variable))
        {
            return (ParseHost(variable, $"${HostEnvironmentVariable}"), $"from ${HostEnvironmentVariable}", null);
        }

        // A file another user could have planted (say in /tmp above the project) would get the admin token sent to its host.
        var ignored = new List<string>();
        var found = _environment.FindDevState(ignored.Add);
        foreach (var reason in ignored)
        {
            await _error.WriteLineAsync($"berth: {reason}");
        }

        if (found is { } dev)
        {
            // Not "the running berth dev": a long follow (berth tail) may report it after berth dev has ended.
            return (dev.Host, $"from berth dev's {DevState.DirectoryName}/{DevState.FileName}", dev);
        }

        return (ParseHost(DefaultHost, "default"), "the default", null);
    }

    private static Uri ParseHost(string text, string source)
    {
        var trimmed = text.Trim();
        if (!Uri.TryCreate(trimmed.EndsWith('/') ? trimmed : trimmed + "/", UriKind.Absolute, out var host) || host.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"{source} '{text}' is not an http(s) address such as {DefaultHost}.");
        }

        return host;
    }

    /// <summary>--token, else $BERTH_ADMIN_TOKEN, else the file the host wrote into its data directory (read now).</summary>
    /// <exception cref="CliException">None of them gives a token (<see cref="ExitCodes.Unauthorized"/>).</exception>
    private ResolvedToken ResolveToken(string? option, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return new(option.Trim(), "from --token");
        }

        if (_environment.GetVariable(TokenEnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return new(fromEnvironment.Trim(), $"from ${TokenEnvironmentVariable}");
        }

        var file = Path.GetFullPath(Path.Combine(_environment.CurrentDirectory, dataDirectory, TokenFileName));
        byte[]? bytes;
        try
        {
            // A regular file of bounded size, so a FIFO there does not hang berth and a link to /dev/zero does not fill its
            // memory. Not required to be this user's (unlike .berth/dev.json): an operator may read a host's token as
            // another user (root, say), and the file only gives a token, not where to send it.
            bytes = TrustedFile.ReadRegular(file, MaxTokenFileBytes);
        }
        catch (UntrustedFileException ex)
        {
            throw new CliException(ExitCodes.Usage,
                $"The admin token file {file} is refused: {ex.Message}. The host writes it as a small regular file; "
                + $"point --data-dir at the app's data directory, or pass --token / set {TokenEnvironmentVariable}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Unauthorized, $"No admin token: {file} cannot be read ({ex.Message}). "
                + $"Run berth as a user who may read it, or pass --token / set {TokenEnvironmentVariable}.");
        }

        return bytes is null
            ? throw new CliException(ExitCodes.Unauthorized,
                $"No admin token: {file} does not exist. Run from the app's directory, point --data-dir at its data directory, "
                + $"or pass --token / set {TokenEnvironmentVariable}.")
            : new(System.Text.Encoding.UTF8.GetString(bytes).Trim(), $"from {file}");
    }

    internal static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
