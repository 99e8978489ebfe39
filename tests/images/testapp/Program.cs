// The HTTP app inside berth-test/app: behaviour chosen by environment variables and routes so
// one image serves every container test (see docs/container-runtime.md for the full list).
using System.Collections;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Berth.TestApp;
using Microsoft.Extensions.Hosting;

var port = EnvInt("PORT", 8080);
var exitAfterMs = EnvInt("EXIT_AFTER_MS", -1);
var exitCode = EnvInt("EXIT_CODE", 0);
var ignoreSigterm = Environment.GetEnvironmentVariable("IGNORE_SIGTERM") == "1";

// Kept alive for the whole process: disposing the registration would restore SIGTERM.
using var sigterm = ignoreSigterm
    ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        Console.WriteLine("ignoring SIGTERM");
        context.Cancel = true;
    })
    : null;

if (Environment.GetEnvironmentVariable("NEVER_LISTEN") == "1")
{
    Console.WriteLine("never listening");
    await Task.Delay(exitAfterMs >= 0 ? exitAfterMs : Timeout.Infinite);
    Environment.ExitCode = exitCode;
    return;
}

var startupDelayMs = EnvInt("STARTUP_DELAY_MS", 0);
if (startupDelayMs > 0)
{
    Console.WriteLine($"delaying start-up by {startupDelayMs} ms");
    await Task.Delay(startupDelayMs);
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));
if (ignoreSigterm)
{
    // The console lifetime would stop the host on SIGTERM; this one leaves signals alone.
    builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
}

var app = builder.Build();
app.UseWebSockets();

var state = new AppState();
var lifetime = app.Lifetime;
lifetime.ApplicationStarted.Register(() => Console.WriteLine($"listening on {port}"));
lifetime.ApplicationStopping.Register(() => Console.WriteLine("shutting down"));

if (exitAfterMs >= 0)
{
    _ = Task.Run(async () =>
    {
        await Task.Delay(exitAfterMs);
        Console.WriteLine($"exiting after {exitAfterMs} ms with code {exitCode}");
        Environment.ExitCode = exitCode;
        lifetime.StopApplication();
    });
}

app.MapGet("/", (HttpContext ctx) => new RootInfo(
    Environment.MachineName,
    EnvironmentVariables().Where(kv => kv.Key.StartsWith("BERTH_", StringComparison.Ordinal))
        .ToDictionary(kv => kv.Key, kv => kv.Value),
    ctx.Request.Headers.Count));

// A constant short answer: what proxy benchmarks measure (bench/Berth.Bench.EndToEnd).
app.MapGet("/hello", () => "hello\n");

app.MapGet("/env", () => EnvironmentVariables());

app.MapGet("/headers", (HttpContext ctx) =>
    ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()));

app.MapPost("/echo", async (HttpContext ctx) =>
{
    ctx.Response.ContentType = ctx.Request.ContentType ?? "application/octet-stream";
    await ctx.Request.Body.CopyToAsync(ctx.Response.Body, ctx.RequestAborted);
});

app.MapGet("/slow", async (int? ms, CancellationToken ct) =>
{
    await Task.Delay(ms ?? 1000, ct);
    return Results.Text($"waited {ms ?? 1000} ms\n");
});

app.MapGet("/stream", async (HttpContext ctx, int? chunks, int? ms) =>
{
    ctx.Response.ContentType = "text/plain";
    for (var i = 0; i < (chunks ?? 5); i++)
    {
        await ctx.Response.WriteAsync($"chunk {i}\n", ctx.RequestAborted);
        await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        await Task.Delay(ms ?? 100, ctx.RequestAborted);
    }
});

app.MapGet("/state", () => Results.Text(state.Value));
app.MapPost("/state", async (HttpContext ctx) =>
{
    using var reader = new StreamReader(ctx.Request.Body);
    state.Value = await reader.ReadToEndAsync(ctx.RequestAborted);
    return Results.Text(state.Value);
});

app.Map("/ws", async (HttpContext ctx) =>
{
    if (!ctx.WebSockets.IsWebSocketRequest)
    {
        return Results.BadRequest("expected a WebSocket upgrade");
    }

    using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
    await EchoAsync(socket, ctx.RequestAborted);
    return Results.Empty;
});

app.MapGet("/exit", (int? code) =>
{
    var exit = code ?? 0;
    // Stop after this response is sent, so the caller sees the answer.
    _ = Task.Run(async () =>
    {
        await Task.Delay(100);
        Console.WriteLine($"exiting with code {exit}");
        Environment.ExitCode = exit;
        lifetime.StopApplication();
    });
    return Results.Text($"exiting with code {exit}\n");
});

app.MapGet("/crash", async (HttpContext ctx) =>
{
    ctx.Response.ContentType = "text/plain";
    await ctx.Response.WriteAsync("about to crash\n");
    await ctx.Response.Body.FlushAsync();
    Console.WriteLine("crashing");
    Environment.FailFast("crash requested by /crash");
});

// Dies while the request is inside the app, before any byte of the response: a crash mid-request.
app.MapGet("/die", () =>
{
    Console.WriteLine("dying mid-request");
    Environment.FailFast("death requested by /die");
});

app.MapGet("/alloc", (int? mb) =>
{
    const int OneMiB = 1024 * 1024;
    for (var i = 0; i < (mb ?? 10); i++)
    {
        // Native memory: the GC's heap limit (75% of the cgroup's) does not apply, so only the
        // kernel's OOM killer stops the growth, as for any other process.
        var block = Marshal.AllocHGlobal(OneMiB);
        for (var offset = 0; offset < OneMiB; offset += 4096)
        {
            // Touch every page so the memory is resident, not just reserved.
            Marshal.WriteByte(block, offset, 1);
        }

        state.Held.Add(block);
    }

    return Results.Text($"holding {state.Held.Count} MiB\n");
});

await app.RunAsync();

static int EnvInt(string name, int fallback) =>
    int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : fallback;

static Dictionary<string, string> EnvironmentVariables() =>
    Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");

static async Task EchoAsync(WebSocket socket, CancellationToken ct)
{
    var buffer = new byte[64 * 1024];
    while (true)
    {
        var result = await socket.ReceiveAsync(buffer, ct);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseAsync(result.CloseStatus ?? WebSocketCloseStatus.NormalClosure, result.CloseStatusDescription, ct);
            return;
        }

        await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, ct);
    }
}

namespace Berth.TestApp
{
    internal sealed record RootInfo(string Hostname, Dictionary<string, string> Env, int HeaderCount);

    internal sealed class AppState
    {
        public string Value { get; set; } = "";

        public List<nint> Held { get; } = [];
    }

    internal sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(RootInfo))]
    [JsonSerializable(typeof(Dictionary<string, string>))]
    internal sealed partial class AppJson : JsonSerializerContext;
}
