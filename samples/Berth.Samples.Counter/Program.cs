// A stateful counter on Berth durable objects, with no container.
// Run: dotnet run --project samples/Berth.Samples.Counter
//   curl -X POST 'http://127.0.0.1:5080/counters/alice/increment?by=5'
using Berth.Objects;
using Berth.Samples.Counter;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(builder.Configuration.GetValue("siloPort", 11111), builder.Configuration.GetValue("gatewayPort", 30000))
    .AddDurableObjects(options =>
    {
        options.DataDirectory = builder.Configuration["data"] ?? "data";
        options.IdleTimeout = TimeSpan.FromMinutes(1);
    }));
builder.Services.AddDurableObject<ICounter, Counter>("COUNTER");

var app = builder.Build();

app.MapPost("/counters/{name}/increment", async (string name, DurableObjectNamespace<ICounter> counters, long by = 1) =>
{
    try
    {
        return Results.Ok(new { name, value = await counters.GetByName(name).IncrementAsync(by) });
    }
    catch (ArgumentOutOfRangeException e) // thrown inside the object, rethrown here with its type
    {
        return Results.BadRequest(new { error = e.Message });
    }
});

app.MapGet("/counters/{name}", async (string name, DurableObjectNamespace<ICounter> counters) =>
{
    var counter = counters.GetByName(name);
    return Results.Ok(new { name, id = counters.IdFromName(name).ToString(), value = await counter.GetAsync(), history = await counter.HistoryAsync(5) });
});

app.MapPost("/counters/{name}/reset", async (string name, DurableObjectNamespace<ICounter> counters, int afterMs = 1000) =>
    Results.Ok(new { name, resetAt = await counters.GetByName(name).ResetAfterAsync(TimeSpan.FromMilliseconds(afterMs)) }));

// Hand a raw HTTP request to the object's FetchAsync.
app.Map("/counters/{name}/fetch/{**rest}", async (string name, HttpContext http, DurableObjectNamespace<ICounter> counters) =>
{
    using var body = new MemoryStream();
    await http.Request.Body.CopyToAsync(body, http.RequestAborted);
    var request = new FetchRequest(http.Request.Method, $"{http.Request.Path}{http.Request.QueryString}")
    {
        Headers = [.. http.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? "")))],
        Body = body.ToArray(),
    };
    var response = await counters.GetByName(name).FetchAsync(request, http.RequestAborted);
    http.Response.StatusCode = response.Status;
    foreach (var (header, value) in response.Headers)
    {
        http.Response.Headers.Append(header, value);
    }

    await http.Response.Body.WriteAsync(response.Body, http.RequestAborted);
});

await app.RunAsync();
