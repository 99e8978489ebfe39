using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Berth.Cli;

/// <summary>
/// <c>berth dev</c>: runs the app with <c>dotnet run</c> on http://127.0.0.1:&lt;port&gt;, its output going straight to
/// this terminal, and stops it gracefully on Ctrl+C.
/// </summary>
internal static class DevCommand
{
    public const int DefaultPort = 8787;

    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ReadinessPoll = TimeSpan.FromMilliseconds(250);

    public static Command Create(Option<string> dataDirOption, TextWriter output, TextWriter error)
    {
        var project = new Option<string>("--project", "-p")
        {
            Description = "The app: a directory holding one .csproj, or the .csproj itself",
            DefaultValueFactory = _ => ".",
        };
        var port = new Option<int>("--port")
        {
            Description = "Port to listen on, on 127.0.0.1",
            DefaultValueFactory = _ => DefaultPort,
        };
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 65535)
            {
                result.AddError($"--port {result.GetValueOrDefault<int>()} is not allowed; allowed: 1–65535.");
            }
        });

        var command = new Command("dev", $"Run the app locally on http://127.0.0.1:{DefaultPort} with the Docker engine") { project, port };
        command.SetAction((parse, ct) => RunAsync(
            parse.GetRequiredValue(project), parse.GetValue(port), parse.GetRequiredValue(dataDirOption), output, error, ct));
        return command;
    }

    private static async Task<int> RunAsync(string projectPath, int port, string dataDirectory, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            var project = FindProject(projectPath);
            if (await IsListeningAsync(port, cancellationToken))
            {
                throw new CliException(ExitCodes.HostUnreachable, $"Port {port} on 127.0.0.1 is already in use. Stop what listens there or pass --port.");
            }

            var url = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("dotnet")
            {
                // The app's content root (where berth.jsonc is found) is the directory it is started in.
                WorkingDirectory = Path.GetDirectoryName(project)!,
                UseShellExecute = false,
                ArgumentList = { "run", "--project", project },
            };
            start.Environment["ASPNETCORE_URLS"] = url;

            // Object storage, alarms and the admin token all live in the one data directory the CLI reads.
            start.Environment["Berth__Objects__DataDirectory"] = Path.GetFullPath(dataDirectory);
            start.Environment["Berth__Admin__DataDirectory"] = Path.GetFullPath(dataDirectory);
            if (Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is null && Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is null)
            {
                start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            }

            await output.WriteLineAsync($"berth dev: building and starting {project}");
            using var process = Process.Start(start) ?? throw new CliException(ExitCodes.InternalError, "Could not start 'dotnet run'.");
            _ = AnnounceWhenListeningAsync(process, port, url, dataDirectory, output, cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await output.WriteLineAsync("berth dev: stopping the app...");
                await StopAsync(process);
                return ExitCodes.Interrupted;
            }

            await output.WriteLineAsync($"berth dev: the app exited with code {process.ExitCode}.");
            return process.ExitCode;
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"berth: {ex.Message}");
            return ex.ExitCode;
        }
    }

    /// <summary>Resolves --project to one project file.</summary>
    internal static string FindProject(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return full.EndsWith("proj", StringComparison.OrdinalIgnoreCase)
                ? full
                : throw new CliException(ExitCodes.Usage, $"--project '{path}' is not a project file; allowed: a .csproj or a directory holding one.");
        }

        if (!Directory.Exists(full))
        {
            throw new CliException(ExitCodes.NotFound, $"--project '{path}' does not exist ({full}).");
        }

        var projects = Directory.GetFiles(full, "*.csproj");
        return projects.Length switch
        {
            1 => projects[0],
            0 => throw new CliException(ExitCodes.NotFound, $"No .csproj in {full}. Run from the app's directory or pass --project."),
            _ => throw new CliException(ExitCodes.Usage,
                $"Several projects in {full}: {string.Join(", ", projects.Select(Path.GetFileName).Order(StringComparer.Ordinal))}. Pass --project <file>."),
        };
    }

    private static async Task AnnounceWhenListeningAsync(
        Process process, int port, string url, string dataDirectory, TextWriter output, CancellationToken cancellationToken)
    {
        using var poll = new PeriodicTimer(ReadinessPoll);
        try
        {
            while (!process.HasExited && await poll.WaitForNextTickAsync(cancellationToken))
            {
                if (await IsListeningAsync(port, cancellationToken))
                {
                    await output.WriteLineAsync(
                        $"berth dev: listening on {url} (admin API token in {Path.Combine(Path.GetFullPath(dataDirectory), "admin-token")}; Ctrl+C to stop)");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C before the app was up: nothing to announce.
        }
    }

    private static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// SIGTERM to <c>dotnet run</c>, which passes it on to the app (a terminal's Ctrl+C has reached the app already);
    /// the whole tree is killed if the app has not exited after <see cref="ShutdownGrace"/>.
    /// </summary>
    private static async Task StopAsync(Process process)
    {
        if (!OperatingSystem.IsWindows() && !process.HasExited)
        {
            _ = NativeMethods.Kill(process.Id, NativeMethods.SigTerm);
        }

        using var grace = new CancellationTokenSource(ShutdownGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static class NativeMethods
    {
        public const int SigTerm = 15;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
