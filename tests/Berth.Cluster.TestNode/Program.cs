// A cluster node for the tests. Usage: dotnet Berth.Cluster.TestNode.dll --urls http://127.0.0.1:PORT
//   --Berth:Objects:DataDirectory DIR --Berth:Containers:AppName APP --Berth:Cluster:Provider postgres
//   --Berth:Cluster:Connection CS --Berth:Cluster:SiloPort N --Berth:Cluster:GatewayPort N
//   --Berth:Cluster:AdvertiseAddress 127.0.0.1 --Berth:Cluster:Location LOC
//   [--Probe:Image IMAGE --Probe:SleepAfter 00:00:02]: the container class PROBE_CONTAINER on /c/{name}/{**rest}
using Berth.Cluster.TestNode;
using Berth.Gateway;
using Berth.Containers;
using Berth.Hosting;
using Berth.Objects;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.AddBerth(berth => berth.AddContainer<ProbeContainer>(o =>
{
    o.Image = builder.Configuration["Probe:Image"] ?? "berth-test/app:latest";
    if (builder.Configuration["Probe:SleepAfter"] is { } sleepAfter)
    {
        o.SleepAfter = TimeSpan.Parse(sleepAfter, System.Globalization.CultureInfo.InvariantCulture);
    }
}));
builder.Services.AddDurableObject<IClusterProbe, ClusterProbe>("PROBE");

var app = builder.Build();
app.MapGet("/health", (IOptions<ContainerOptions> options) => options.Value.NodeId);
app.MapGet("/probe/{name}", async (string name, string? location, DurableObjectNamespace<IClusterProbe> probes) =>
    Results.Json(await probes.GetByName(name, location).HitAsync()));
app.MapPut("/objects/{name}/kv/{key}", async (string name, string key, HttpRequest request, DurableObjectNamespace<IClusterProbe> probes) =>
{
    using var reader = new StreamReader(request.Body);
    await probes.GetByName(name).PutAsync(key, await reader.ReadToEndAsync());
    return Results.NoContent();
});
app.MapGet("/objects/{name}/kv/{key}", async (string name, string key, DurableObjectNamespace<IClusterProbe> probes) =>
    await probes.GetByName(name).GetAsync(key) is { } value ? Results.Text(value) : Results.NotFound());
app.MapPost("/objects/{name}/alarm", async (string name, long atMs, DurableObjectNamespace<IClusterProbe> probes) =>
{
    await probes.GetByName(name).SetAlarmAsync(DateTimeOffset.FromUnixTimeMilliseconds(atMs));
    return Results.NoContent();
});
app.MapGet("/objects/{name}/fired", async (string name, DurableObjectNamespace<IClusterProbe> probes) =>
    Results.Json(await probes.GetByName(name).FiredAsync()));
app.MapContainer<ProbeContainer>("/c/{name}/{**rest}", "name", stripPrefix: true);
await app.RunAsync();
