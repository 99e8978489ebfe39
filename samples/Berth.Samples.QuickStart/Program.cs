using Berth.Gateway;
using Berth.Hosting;
using Berth.Samples.QuickStart;

var builder = WebApplication.CreateBuilder(args);

// The platform, the app's berth.jsonc (its containers[] entry names MyContainer's Dockerfile) and the class.
builder.AddBerth(berth => berth.UseConfigFile().AddContainer<MyContainer>());

var app = builder.Build();

// One container per user: the name picks the durable object, the object owns the container.
app.MapContainer<MyContainer>("/u/{user}/{**path}", "user", stripPrefix: true);

// The admin API the `berth` CLI talks to (token-guarded, loopback only).
app.MapBerthAdmin();

// The web dashboard at /_berth/dashboard/ (same token, loopback only): docs/dashboard.md.
app.MapBerthDashboard();

// Prometheus metrics at /_berth/metrics (loopback only, no token): docs/operations.md.
app.MapBerthMetrics();

app.Run();
