// A per-session sandbox on Berth: one container per session ID, asleep after a minute without use.
// Run:  dotnet run --project samples/Berth.Samples.Sandbox --urls http://127.0.0.1:8788
//   curl -X POST --data-binary 'hello' 'http://127.0.0.1:8788/sandbox/alice/cgi-bin/files?name=notes.txt'
//   curl 'http://127.0.0.1:8788/sandbox/alice/cgi-bin/files?name=notes.txt'
//   curl -X POST -H 'Content-Type: application/json' -d '{"command":"ls -l /tmp/files"}' http://127.0.0.1:8788/sandbox/alice/exec
using Berth.Gateway;
using Berth.Hosting;
using Berth.Samples.Sandbox;

var builder = WebApplication.CreateBuilder(args);

// The platform plus the app's config (berth.jsonc: the Sandbox class and its Dockerfile in container/).
builder.AddBerth(berth => berth
    .UseConfigFile("berth.jsonc")
    .AddContainer<Sandbox>());

var app = builder.Build();

// Session IDs: 1–64 letters, digits, '-' or '_' (anything else is a 404).
const string Session = "{session:regex(^[A-Za-z0-9_-]{{1,64}}$)}";

// RPC: run a shell command in the session's container.
app.MapPost($"/sandbox/{Session}/exec", ExecEndpoint.RunAsync);

// Everything else under /sandbox/<session>/ goes to that session's container, without the prefix.
app.MapContainer<Sandbox>($"/sandbox/{Session}/{{**path}}", ctx => (string)ctx.Request.RouteValues["session"]!, stripPrefix: true);

// `berth containers list|logs|exec|stop` (token in data/admin-token).
app.MapBerthAdmin();

app.Run();
