// Usage: dotnet Berth.Objects.TestHost.dll --urls http://127.0.0.1:PORT --data DIR --siloPort N --gatewayPort N
using Berth.Objects;
using Berth.Objects.TestHost;

var builder = WebApplication.CreateBuilder(args);
var dataDirectory = builder.Configuration["data"] ?? throw new InvalidOperationException("--data is required");
var siloPort = builder.Configuration.GetValue<int>("siloPort");
var gatewayPort = builder.Configuration.GetValue<int>("gatewayPort");
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(siloPort, gatewayPort)
    .AddDurableObjects(options => options.DataDirectory = dataDirectory));
builder.Services.AddDurableObject<IProbeObject, ProbeObject>("PROBE");

var app = builder.Build();
app.MapGet("/health", () => "ok");
app.MapPut("/objects/{name}/kv/{key}", async (string name, string key, HttpRequest request, DurableObjectNamespace<IProbeObject> probes) =>
{
    using var reader = new StreamReader(request.Body);
    await probes.GetByName(name).PutAsync(key, await reader.ReadToEndAsync());
    return Results.NoContent();
});
app.MapGet("/objects/{name}/kv/{key}", async (string name, string key, DurableObjectNamespace<IProbeObject> probes) =>
    await probes.GetByName(name).GetAsync(key) is { } value ? Results.Text(value) : Results.NotFound());
app.MapPost("/objects/{name}/alarm", async (string name, long atMs, DurableObjectNamespace<IProbeObject> probes) =>
{
    await probes.GetByName(name).SetAlarmAsync(DateTimeOffset.FromUnixTimeMilliseconds(atMs));
    return Results.NoContent();
});
app.MapGet("/objects/{name}/fired", async (string name, DurableObjectNamespace<IProbeObject> probes) =>
    Results.Json(await probes.GetByName(name).FiredAsync()));
await app.RunAsync();
