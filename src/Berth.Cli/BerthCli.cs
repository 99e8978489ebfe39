using System.CommandLine;
using System.Globalization;

namespace Berth.Cli;

/// <summary>The <c>berth</c> command tree: <c>dev</c> and <c>containers list|logs|exec|stop|destroy</c>.</summary>
internal sealed class BerthCli
{
    public const string DefaultHost = "http://127.0.0.1:8787";
    public const string TokenEnvironmentVariable = "BERTH_ADMIN_TOKEN";
    private const string TokenFileName = "admin-token";

    private readonly Option<string> _host = new("--host")
    {
        Description = "Address of the running Berth host",
        DefaultValueFactory = _ => DefaultHost,
        Recursive = true,
    };

    private readonly Option<string?> _token = new("--token")
    {
        Description = $"Admin API token (default: ${TokenEnvironmentVariable}, else the token file in --data-dir)",
        Recursive = true,
    };

    private readonly Option<string> _dataDir = new("--data-dir")
    {
        Description = $"The app's data directory, where the host writes its generated '{TokenFileName}'",
        DefaultValueFactory = _ => "data",
        Recursive = true,
    };

    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly Stream? _rawOutput;
    private readonly Stream? _rawError;

    private BerthCli(TextWriter output, TextWriter error, Stream? rawOutput, Stream? rawError)
    {
        _output = output;
        _error = error;
        _rawOutput = rawOutput;
        _rawError = rawError;
    }

    /// <summary>Parses and runs a command line, writing to the given writers; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        new BerthCli(output, error, null, null).InvokeAsync(args, cancellationToken);

    /// <summary>
    /// Parses and runs a command line, writing to the given writers; returns the exit code. When <paramref name="rawOutput"/> and
    /// <paramref name="rawError"/> are given (the process's standard streams), <c>containers exec</c> writes the command's bytes
    /// to them unchanged; otherwise it decodes them as UTF-8 into the writers.
    /// </summary>
    public static Task<int> RunAsync(
        string[] args, TextWriter output, TextWriter error, Stream? rawOutput, Stream? rawError, CancellationToken cancellationToken = default) =>
        new BerthCli(output, error, rawOutput, rawError).InvokeAsync(args, cancellationToken);

    private async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Berth: run container apps written in C# locally, and inspect their containers.")
        {
            Options = { _host, _token, _dataDir },
            Subcommands = { DevCommand.Create(_dataDir, _output, _error), CreateContainersCommand() },
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await _error.WriteLineAsync($"berth: {parseError.Message}");
            }

            await _error.WriteLineAsync("Run 'berth --help' for usage.");
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
        var classArgument = new Argument<string>("class") { Description = "Container class (class_name in berth.jsonc)" };
        var idArgument = new Argument<string>("id") { Description = "Object ID, or an unambiguous prefix of it" };

        var list = new Command("list", "List the app's containers");
        list.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var containers = await client.ListAsync(ct);
            await WriteTableAsync(_output, containers);
            return ExitCodes.Success;
        }));

        var follow = new Option<bool>("--follow", "-f") { Description = "Keep streaming new lines" };
        var tail = new Option<int?>("--tail", "-n") { Description = "Start with the last N lines" };
        var logs = new Command("logs", "Print a container's output") { classArgument, idArgument, follow, tail };
        logs.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            await client.StreamLogsAsync(parse.GetRequiredValue(classArgument), parse.GetRequiredValue(idArgument),
                parse.GetValue(follow), parse.GetValue(tail), _output, ct);
            return ExitCodes.Success;
        }));

        var command = new Argument<string[]>("command")
        {
            Description = "Command and arguments to run; put them after --",
            Arity = ArgumentArity.OneOrMore,
        };
        var exec = new Command("exec", "Run a command in a container and print its output; exits with the command's exit code")
        {
            classArgument, idArgument, command,
        };
        exec.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var stdout = new ExecOutput(_output, _rawOutput);
            var stderr = new ExecOutput(_error, _rawError);
            var exitCode = await client.ExecAsync(parse.GetRequiredValue(classArgument), parse.GetRequiredValue(idArgument),
                parse.GetRequiredValue(command), (isError, data, token) => (isError ? stderr : stdout).WriteAsync(data, token), ct);
            await stdout.CompleteAsync(ct);
            await stderr.CompleteAsync(ct);
            return (int)exitCode;
        }));

        var grace = new Option<int?>("--grace") { Description = "Seconds between SIGTERM and SIGKILL (default: the host's, 10)" };
        var stop = new Command("stop", "Stop a container: SIGTERM, then SIGKILL after the grace period") { classArgument, idArgument, grace };
        stop.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var result = await client.StopAsync(parse.GetRequiredValue(classArgument), parse.GetRequiredValue(idArgument), parse.GetValue(grace), ct);
            await _output.WriteLineAsync(
                $"Stopped {result.Class}/{result.Object} (container {Short(result.Id)}), exit code {result.ExitCode}{(result.OomKilled ? ", killed for using too much memory" : "")}.");
            return ExitCodes.Success;
        }));

        var destroy = new Command("destroy", "Remove a container at once (SIGKILL, no grace period); its object records a requested stop") { classArgument, idArgument };
        destroy.SetAction((parse, ct) => RunAdminAsync(parse, async client =>
        {
            var result = await client.DestroyAsync(parse.GetRequiredValue(classArgument), parse.GetRequiredValue(idArgument), ct);
            await _output.WriteLineAsync($"Destroyed {result.Class}/{result.Object} (container {Short(result.Id)}).");
            return ExitCodes.Success;
        }));

        return new Command("containers", "Inspect the containers of a running app through its admin API")
        {
            Subcommands = { list, logs, exec, stop, destroy },
        };
    }

    /// <summary>Resolves host and token, runs <paramref name="action"/> and maps failures to messages and exit codes.</summary>
    private async Task<int> RunAdminAsync(ParseResult parse, Func<AdminClient, Task<int>> action)
    {
        try
        {
            var hostText = parse.GetRequiredValue(_host);
            if (!Uri.TryCreate(hostText.EndsWith('/') ? hostText : hostText + "/", UriKind.Absolute, out var host) || host.Scheme is not ("http" or "https"))
            {
                throw new CliException(ExitCodes.Usage, $"--host '{hostText}' is not an http(s) address such as {DefaultHost}.");
            }

            var (token, source) = ResolveToken(parse.GetValue(_token), parse.GetRequiredValue(_dataDir));
            using var client = AdminClient.Create(host, token, source);
            return await action(client);
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

    /// <summary>--token, else $BERTH_ADMIN_TOKEN, else the file the host wrote into its data directory.</summary>
    private static (string Token, string Source) ResolveToken(string? option, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return (option.Trim(), "from --token");
        }

        if (Environment.GetEnvironmentVariable(TokenEnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return (fromEnvironment.Trim(), $"from ${TokenEnvironmentVariable}");
        }

        var file = Path.GetFullPath(Path.Combine(dataDirectory, TokenFileName));
        if (!File.Exists(file))
        {
            throw new CliException(ExitCodes.Unauthorized,
                $"No admin token: {file} does not exist. Run from the app's directory, point --data-dir at its data directory, "
                + $"or pass --token / set {TokenEnvironmentVariable}.");
        }

        return (File.ReadAllText(file).Trim(), $"from {file}");
    }

    private static async Task WriteTableAsync(TextWriter output, IReadOnlyList<ContainerInfo> containers)
    {
        if (containers.Count == 0)
        {
            await output.WriteLineAsync("No containers.");
            return;
        }

        string[] header = ["CLASS", "OBJECT", "STATE", "CONTAINER", "IMAGE", "CREATED"];
        var rows = containers
            .Select(c => new[] { c.Class, c.Object, c.State, Short(c.Id), c.Image, c.Created.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) })
            .Prepend(header)
            .ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
    }

    private static string Short(string containerId) => containerId.Length > 12 ? containerId[..12] : containerId;
}
