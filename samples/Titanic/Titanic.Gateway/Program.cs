using Berth.Containers;
using Berth.Gateway;
using Berth.Hosting;
using Titanic.Gateway;

var builder = WebApplication.CreateBuilder(args);

// The platform: Orleans silo, Docker engine, container objects, gateway, the config file and its crons.
builder.AddBerth(berth => berth
    .UseConfigFile("berth.jsonc")
    .AddContainer<FastApiContainer>()
    .AddScheduledHandler<PrewarmModel>());

var app = builder.Build();

// The "worker": a static page at / and every /api/* request forwarded to the one model container.
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapContainer<FastApiContainer>("/api/{**path}", _ => FastApiContainer.Singleton);
app.MapBerthAdmin();
app.MapBerthDashboard();
app.MapBerthHealth();
app.MapBerthMetrics();   // GET /_berth/metrics (Prometheus, loopback only)

app.Run();
