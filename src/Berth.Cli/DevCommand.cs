using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Berth.Cli;

/// <summary>
/// <c>berth dev</c>: runs the app with <c>dotnet run --no-launch-profile</c> on http://127.0.0.1:&lt;port&gt; (the address is
/// <c>berth dev</c>'s, whatever the project's launch profile or settings say), with free Orleans silo and gateway ports and
/// the project's own data directory; says loudly when the app does not open its port in time; restarts it when its
/// sources change; and on Ctrl+C lets it stop the containers it started, waiting for their stop grace.
/// </summary>
internal static class DevCommand
{
    public const int DefaultPort = 8787;

    /// <summary>The app's build configuration unless <c>--configuration</c> says otherwise: Release.</summary>
    public const string DefaultConfiguration = "Release";

    private static readonly System.Buffers.SearchValues<char> ConfigurationNameCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

    /// <summary>How long the app may take to open its port, build included: 120 s.</summary>
    public const int DefaultStartTimeoutSeconds = 120;

    /// <summary>How long the app may take to stop after Ctrl+C (its containers' stop grace included): 120 s.</summary>
    public const int DefaultStopTimeoutSeconds = 120;

    /// <summary>The environment variable that tells the host it runs under <c>berth dev</c> (image watch, containers stopped on exit).</summary>
    public const string DevEnvironmentVariable = "BERTH_DEV";

    /// <summary>The exit code of a host that refused its config (EX_CONFIG, as BerthConfigException.ExitCode).</summary>
    internal const int ConfigErrorExitCode = 78;

    private static readonly TimeSpan ReadinessPoll = TimeSpan.FromMilliseconds(250);

    public static Command Create(Option<string> dataDirOption, TextWriter output, TextWriter error) =>
        Create(dataDirOption, output, error, TimeProvider.System);

    internal static Command Create(Option<string> dataDirOption, TextWriter output, TextWriter error, TimeProvider timeProvider)
    {
        var project = new Option<string>("--project", "-p")
        {
            Description = "The app: a directory holding one .csproj, or the .csproj itself",
            DefaultValueFactory = _ => ".",
        };
        var port = new Option<int>("--port")
        {
            Description = "Port to listen on, on 127.0.0.1 (the launch profile's and appsettings' addresses are not used)",
            DefaultValueFactory = _ => DefaultPort,
        };
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 65535)
            {
                result.AddError($"--port {result.GetValueOrDefault<int>()} is not allowed; allowed: 1–65535.");
            }
        });
        var startTimeout = new Option<int>("--start-timeout")
        {
            Description = $"Seconds the app may take to open its port, build included (default {DefaultStartTimeoutSeconds})",
            DefaultValueFactory = _ => DefaultStartTimeoutSeconds,
        };
        startTimeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError($"--start-timeout {result.GetValueOrDefault<int>()} is not allowed; allowed: 1–3600 seconds.");
            }
        });
        var stopTimeout = new Option<int>("--stop-timeout")
        {
            Description = $"Seconds the app may take to stop after Ctrl+C, its containers' stop grace included (default {DefaultStopTimeoutSeconds})",
            DefaultValueFactory = _ => DefaultStopTimeoutSeconds,
        };
        stopTimeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError($"--stop-timeout {result.GetValueOrDefault<int>()} is not allowed; allowed: 1–3600 seconds.");
            }
        });
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not restart the app when its sources change" };
        var configuration = new Option<string>("--configuration", "-c")
        {
            Description = $"Build configuration of the app (default {DefaultConfiguration}: the gateway at full speed; Debug to step through it)",
            DefaultValueFactory = _ => DefaultConfiguration,
        };
        configuration.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (string.IsNullOrWhiteSpace(value) || value.AsSpan().ContainsAnyExcept(ConfigurationNameCharacters))
            {
                result.AddError($"--configuration '{value}' is not allowed; use a build configuration name such as Release or Debug (letters, digits, '.', '-', '_').");
            }
        });
        var logRequests = new Option<bool>("--log-requests", "--verbose")
        {
            Description = "Log every request and every forward to a container (ASP.NET Core's and YARP's Information lines); off by default",
        };

        var command = new Command("dev", $"Run the app locally on http://127.0.0.1:{DefaultPort} with the Docker engine, restarting it on change")
        {
            project, port, startTimeout, stopTimeout, noWatch, configuration, logRequests,
        };
        command.SetAction((parse, ct) => RunAsync(
            new DevSettings(
                parse.GetRequiredValue(project),
                parse.GetValue(port),
                parse.GetResult(dataDirOption) is { Implicit: false } ? parse.GetRequiredValue(dataDirOption) : null,
                TimeSpan.FromSeconds(parse.GetValue(startTimeout)),
                TimeSpan.FromSeconds(parse.GetValue(stopTimeout)),
                !parse.GetValue(noWatch),
                parse.GetRequiredValue(configuration),
                parse.GetValue(logRequests)),
            TextWriter.Synchronized(output), TextWriter.Synchronized(error), timeProvider, ct));
        return command;
    }

    /// <summary>
    /// Records in <c>.berth/dev.json</c> that this stop is for good, before the app hears of it: a <c>berth tail</c> whose
    /// stream the stopping app ends then says the host stopped instead of waiting for a restart. Best effort.
    /// </summary>
    private static async Task MarkStoppingAsync(string projectDirectory, DevState state, TextWriter error)
    {
        try
        {
            await DevState.WriteAsync(projectDirectory, state with { Stopping = true }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"berth dev: could not note the stop in {DevState.PathFor(projectDirectory)} ({ex.Message}); a berth tail will wait for the app to come back.");
        }
    }

    private static async Task<int> RunAsync(DevSettings settings, TextWriter output, TextWriter error, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        try
        {
            var project = FindProject(settings.ProjectPath);
            var projectDirectory = Path.GetDirectoryName(project)!;
            // Each project keeps its own objects, node identity and admin token (not the directory berth is run from).
            var dataDirectory = Path.GetFullPath(settings.DataDirectory ?? Path.Combine(projectDirectory, "data"));
            if (await IsListeningAsync(settings.Port, cancellationToken))
            {
                throw new CliException(ExitCodes.HostUnreachable, $"Port {settings.Port} on 127.0.0.1 is already in use. Stop what listens there or pass --port.");
            }

            using var watcher = settings.Watch ? new DevSourceWatcher(projectDirectory, dataDirectory, timeProvider) : null;
            var url = $"http://127.0.0.1:{settings.Port}";
            var first = true;
            // The other commands, run in this project, find the app and its token file through .berth/dev.json.
            var state = new DevState(new Uri(url + "/"), dataDirectory, Environment.ProcessId, timeProvider.GetUtcNow(), settings.Watch);
            await DevState.WriteAsync(projectDirectory, state, cancellationToken);
            try
            {
                while (true)
                {
                    await output.WriteLineAsync($"berth dev: building and starting {project}");
                    using var app = DevAppProcess.Start(StartInfo(project, projectDirectory, url, dataDirectory, settings), output, error);
                    try
                    {
                        var started = await WaitUntilListeningAsync(app, settings.Port, settings.StartTimeout, timeProvider, cancellationToken);
                        if (started == StartResult.Listening)
                        {
                            await output.WriteLineAsync(
                                $"berth dev: listening on {url} (data in {dataDirectory}, admin API token in {Path.Combine(dataDirectory, "admin-token")}; "
                                + (watcher is null ? "Ctrl+C to stop)" : "restarts when the app's sources change; Ctrl+C to stop)"));
                        }
                        else
                        {
                            await ReportFailedStartAsync(started, app, url, settings.StartTimeout, error);
                            if (first || watcher is null)
                            {
                                await app.StopAsync(settings.StopTimeout, timeProvider, CancellationToken.None);
                                return started == StartResult.Exited && app.ExitCode != 0 ? app.ExitCode : ExitCodes.HostUnreachable;
                            }

                            await app.StopAsync(settings.StopTimeout, timeProvider, CancellationToken.None);
                            await output.WriteLineAsync("berth dev: waiting for a change to the app's sources to try again.");
                            await output.WriteLineAsync($"berth dev: {await watcher.WaitForChangeAsync(cancellationToken)} changed, restarting the app.");
                            continue;
                        }

                        first = false;
                        var exited = app.WaitForExitAsync(cancellationToken);
                        if (watcher is null)
                        {
                            await exited;
                            await output.WriteLineAsync($"berth dev: the app exited with code {app.ExitCode}.");
                            return app.ExitCode;
                        }

                        var changed = watcher.WaitForChangeAsync(cancellationToken);
                        if (await Task.WhenAny(exited, changed) == exited)
                        {
                            await exited;
                            await output.WriteLineAsync($"berth dev: the app exited with code {app.ExitCode}; waiting for a change to its sources to restart it.");
                        }

                        var path = await changed;
                        await output.WriteLineAsync($"berth dev: {path} changed, restarting the app.");
                        await app.StopAsync(settings.StopTimeout, timeProvider, CancellationToken.None);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        await output.WriteLineAsync($"berth dev: stopping the app and the containers it started (up to {settings.StopTimeout.TotalSeconds:0} s)...");
                        await MarkStoppingAsync(projectDirectory, state, error);
                        if (!await app.StopAsync(settings.StopTimeout, timeProvider, CancellationToken.None))
                        {
                            await error.WriteLineAsync($"berth dev: the app did not stop within {settings.StopTimeout.TotalSeconds:0} s (--stop-timeout) and was killed.");
                        }

                        return ExitCodes.Interrupted;
                    }
                }
            }
            finally
            {
                DevState.Delete(projectDirectory, Environment.ProcessId);
            }
        }
        catch (CliException ex)
        {
            await error.WriteLineAsync($"berth: {ex.Message}");
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    internal static ProcessStartInfo StartInfo(string project, string projectDirectory, string url, string dataDirectory, DevSettings settings)
    {
        var stopTimeout = settings.StopTimeout;
        var start = new ProcessStartInfo("dotnet")
        {
            // The app's content root (where berth.jsonc is found) is the directory it is started in.
            WorkingDirectory = projectDirectory,
            // No launch profile: its applicationUrl would win over ours. --urls beats appsettings' Urls too.
            // Release by default: a Debug build of the gateway costs more CPU per request (bench/README.md, issue 17).
            ArgumentList = { "run", "--no-launch-profile", "--configuration", settings.Configuration, "--project", project, "--", "--urls", url },
        };
        if (settings.LogRequests)
        {
            // Environment variables win over appsettings.json and over Berth's default levels (BerthLogging).
            start.Environment["Logging__LogLevel__Yarp"] = "Information";
            start.Environment["Logging__LogLevel__Berth.Gateway.Requests"] = "Information";
            start.Environment["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        }

        start.Environment["ASPNETCORE_URLS"] = url;

        // Object storage, alarms, node identity and the admin token all live in the project's one data directory.
        start.Environment["Berth__Objects__DataDirectory"] = dataDirectory;
        start.Environment["Berth__Admin__DataDirectory"] = dataDirectory;

        // Free silo and gateway ports, so several apps (and a production host) can run side by side.
        start.Environment["Berth__Cluster__SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["Berth__Cluster__GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture);

        // The host watches its container classes' build contexts and stops its containers when it exits.
        start.Environment[DevEnvironmentVariable] = "1";
        // The host's own shutdown limit (HostOptions.ShutdownTimeout), so containers get their stop grace.
        start.Environment["DOTNET_SHUTDOWNTIMEOUTSECONDS"] = stopTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        if (Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is null && Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is null)
        {
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        }

        return start;
    }

    private static async Task ReportFailedStartAsync(StartResult result, DevAppProcess app, string url, TimeSpan startTimeout, TextWriter error)
    {
        await error.WriteLineAsync(result == StartResult.TimedOut
            ? $"berth dev: ERROR: the app did not open {url} within {startTimeout.TotalSeconds:0} s (--start-timeout). "
                + "Does it listen somewhere else (a hard-coded address, or Kestrel endpoints in appsettings.json)? It must listen on the address berth dev gives it (ASPNETCORE_URLS / --urls)."
            : $"berth dev: ERROR: the app exited with code {app.ExitCode} before it opened {url}.");
        var last = app.LastLines;
        // A config error (EX_CONFIG) is a complete message the app has just printed: repeating it only doubles it.
        if (last.Count > 0 && !(result == StartResult.Exited && app.ExitCode == ConfigErrorExitCode))
        {
            await error.WriteLineAsync("berth dev: the app's last output:");
            foreach (var line in last)
            {
                await error.WriteLineAsync($"  | {line}");
            }
        }
        else
        {
            await error.WriteLineAsync("berth dev: the app printed nothing.");
        }
    }

    private enum StartResult
    {
        Listening,
        Exited,
        TimedOut,
    }

    private static async Task<StartResult> WaitUntilListeningAsync(
        DevAppProcess app, int port, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        while (true)
        {
            if (await IsListeningAsync(port, cancellationToken))
            {
                return StartResult.Listening;
            }

            if (app.HasExited)
            {
                await app.WaitForExitAsync(cancellationToken);
                return StartResult.Exited;
            }

            if (timeProvider.GetElapsedTime(started) >= timeout)
            {
                return StartResult.TimedOut;
            }

            await Task.Delay(ReadinessPoll, timeProvider, cancellationToken);
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

    /// <summary>A port nothing listens on now, on 127.0.0.1.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal sealed record DevSettings(string ProjectPath, int Port, string? DataDirectory, TimeSpan StartTimeout, TimeSpan StopTimeout, bool Watch,
        string Configuration = DefaultConfiguration, bool LogRequests = false);
}
