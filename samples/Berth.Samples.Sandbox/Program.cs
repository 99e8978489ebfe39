// A per-session sandbox on Berth: one container per session ID, asleep after a minute without use.
// Run:  dotnet run --project samples/Berth.Samples.Sandbox --urls http://127.0.0.1:8788
//   curl -X POST --data-binary 'hello' 'http://127.0.0.1:8788/sandbox/alice/cgi-bin/files?name=notes.txt'
//   curl 'http://127.0.0.1:8788/sandbox/alice/cgi-bin/files?name=notes.txt'
//   curl -X POST -H 'Content-Type: application/json' -d '{"command":"ls -l /tmp/files"}' http://127.0.0.1:8788/sandbox/alice/exec
using Berth.Hosting;
using Berth.Samples.Sandbox;

var builder = WebApplication.CreateBuilder(args);

// The platform plus the app's config (berth.jsonc: the Sandbox class and its Dockerfile in container/).
builder.AddBerth(berth => berth
    .UseConfigFile("berth.jsonc")
    .AddContainer<Sandbox>());

var app = builder.Build();

// POST /sandbox/<session>/exec runs a shell command there; the rest of /sandbox/<session>/ goes to its container.
app.MapSandbox();

// `berth containers list|logs|exec|stop` (token in data/admin-token).
app.MapBerthAdmin();

// The web dashboard at /_berth/dashboard/ (same token, loopback only).
app.MapBerthDashboard();

// /_berth/alive and /_berth/health for a prober (no token; they say nothing about objects).
app.MapBerthHealth();

app.Run();
