// Egress path cost: an upstream (Kestrel, "hello") on a non-loopback host address; a client on 127.0.0.1
// registered with an allow-list policy; requests/s and latency directly and through the egress proxy.
// Usage: dotnet run -c Release --project bench/Berth.Bench.Egress [seconds per case (10)] [concurrency (16)]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Berth.Egress;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
var concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;

var hostAddress = NetworkInterface.GetAllNetworkInterfaces()
    .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
    .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
    .First(a => a.AddressFamily == AddressFamily.InterNetwork);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://{hostAddress}:0");
var app = builder.Build();
app.MapGet("/", () => "hello");
var big = new byte[1024 * 1024];
app.MapGet("/big", () => Results.Bytes(big, "application/octet-stream"));
await app.StartAsync();
var upstream = new Uri(app.Urls.First());

var clients = new EgressClients();
var policy = EgressPolicy.Create(true, ["upstream.bench"], ["*.denied.bench"]);
var client = new EgressClient("bench", policy, NullLogger.Instance);
clients.Register(IPAddress.Loopback, client);
// The stand-in upstream is a private host address on a random port: reachable only because they are listed.
var egressOptions = new EgressOptions();
egressOptions.AllowedPrivateNetworks.Add($"{hostAddress}/32");
egressOptions.AllowedPorts.Add(upstream.Port);
await using var proxy = new EgressProxy(clients, (_, _) => Task.FromResult(new[] { hostAddress }), Options.Create(egressOptions), TimeProvider.System, NullLogger<EgressProxy>.Instance);
await proxy.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);

var named = new Uri($"http://upstream.bench:{upstream.Port}/");
Console.WriteLine($"upstream {upstream}, proxy {proxy.LocalEndPoint}, {seconds} s per case, {concurrency} requests in flight, {Environment.ProcessorCount} cores");
Console.WriteLine("| case | req/s | p50 ms | p99 ms |");
Console.WriteLine("|---|---|---|---|");
await RunAsync("direct, keep-alive", Direct(pooled: true), upstream);
await RunAsync("direct, new connection per request", Direct(pooled: false), upstream);
await RunAsync("through the egress proxy (HTTP_PROXY, one connection per request)", Proxied(), named);
var before = client.BytesIn;
var sw = Stopwatch.StartNew();
using (var http = Proxied())
{
    for (var i = 0; i < 200; i++)
    {
        await http.GetByteArrayAsync(new Uri(named, "/big"));
    }
}

Console.WriteLine($"| 1 MiB bodies through the proxy, one at a time | {200 / sw.Elapsed.TotalSeconds:F0} ({(client.BytesIn - before) / sw.Elapsed.TotalSeconds / 1048576:F0} MiB/s) | | |");
await app.StopAsync();

HttpClient Direct(bool pooled) => new(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = pooled ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, MaxConnectionsPerServer = concurrency });

HttpClient Proxied() => new(new SocketsHttpHandler { Proxy = new WebProxy($"http://{proxy.LocalEndPoint}"), UseProxy = true, MaxConnectionsPerServer = concurrency });

async Task RunAsync(string name, HttpClient http, Uri uri)
{
    using var _ = http;
    // Warm-up.
    for (var i = 0; i < 200; i++)
    {
        using var r = await http.GetAsync(uri);
        r.EnsureSuccessStatusCode();
    }

    var latencies = new List<double>[concurrency];
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    var total = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(async w =>
    {
        var mine = latencies[w] = [];
        while (!stop.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(uri, CancellationToken.None);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    var all = latencies.SelectMany(l => l).Order().ToArray();
    Console.WriteLine($"| {name} | {all.Length / total.Elapsed.TotalSeconds:F0} | {all[all.Length / 2]:F2} | {all[(int)(all.Length * 0.99)]:F2} |");
}
