using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Berth.Bench.EndToEnd;

/// <summary>One wrk run's figures.</summary>
internal sealed record WrkResult(string Command, double RequestsPerSecond, double P50Ms, double P90Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors, string Raw);

/// <summary>Drives wrk (Debian's package) and parses its --latency output.</summary>
internal static partial class Wrk
{
    public static async Task<WrkResult> RunAsync(string url, int threads, int connections, int seconds, string? script, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency" };
        if (script is not null)
        {
            args.AddRange(["-s", script]);
        }

        args.Add(url);
        var (code, output) = await Shell.RunAsync("wrk", args, cancellationToken, TimeSpan.FromSeconds(seconds + 30));
        var command = "wrk " + Shell.Quote(args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{command} failed ({code}): {output}");
        }

        return new WrkResult(
            command,
            double.Parse(RequestsPerSec().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Latency(output, "50%"),
            Latency(output, "90%"),
            Latency(output, "99%"),
            long.Parse(Total().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Non2xx().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            SocketErrors().Match(output) is { Success: true } s
                ? s.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture))
                : 0,
            output);
    }

    private static double Latency(string output, string percentile)
    {
        var match = Regex.Match(output, @"^\s*" + Regex.Escape(percentile) + @"\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "s" => value * 1000,
            _ => value,
        };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSec();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Total();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}

/// <summary>
/// Debian's nginx as a reverse proxy on a loopback port, configured for this job: worker_processes auto,
/// upstream keepalive 64, HTTP/1.1 upstream with an empty Connection header, no access log, and the same
/// X-Forwarded-* headers the gateway adds. Its config, pid, logs and temp files live in a temp directory.
/// </summary>
internal sealed class Nginx : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, int port, string config)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Config = config;
    }

    public int Port { get; }

    public string Config { get; }

    public int MasterPid => _process.Id;

    /// <summary>The worker processes (children of the master).</summary>
    public IReadOnlyList<int> WorkerPids() =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == _process.Id)
            .ToList();

    public static async Task<Nginx> StartAsync(string upstream, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "berth-bench-nginx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        foreach (var temp in new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
        {
            Directory.CreateDirectory(Path.Combine(directory, temp));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(directory, temp), (UnixFileMode)0x1FF);
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var config = $$"""
            worker_processes auto;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            daemon off;
            events {
                worker_connections 4096;
            }
            http {
                access_log off;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                keepalive_requests 1000000;
                upstream app {
                    server {{upstream}};
                    keepalive 64;
                    keepalive_requests 1000000;
                }
                server {
                    listen 127.0.0.1:{{port}} reuseport;
                    location / {
                        proxy_pass http://app;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                        proxy_set_header X-Forwarded-Proto $scheme;
                        proxy_set_header X-Forwarded-Host $host;
                    }
                }
            }
            """;
        var configPath = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config, cancellationToken);

        var start = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-p", directory, "-e", Path.Combine(directory, "error.log"), "-c", configPath })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start nginx");
        Cleanup.Register(process);
        var nginx = new Nginx(process, directory, port, config);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (process.HasExited)
            {
                var log = File.Exists(Path.Combine(directory, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "error.log"), cancellationToken) : "";
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync(cancellationToken)} {log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return nginx;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGQUIT: graceful shutdown of the master and its workers.
                _ = Shell.RunAsync("kill", ["-QUIT", _process.Id.ToString(CultureInfo.InvariantCulture)], CancellationToken.None);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            Cleanup.Unregister(_process);
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static int ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
