using Berth.Objects;
using Berth.Storage;

namespace Berth.Samples.Docs.DurableObjects;

// snippet: counter
public interface ICounter : IDurableObject
{
    Task<long> IncrementAsync(long by);
}

public sealed class Counter : DurableObject, ICounter
{
    private long _value;

    protected override Task OnObjectActivateAsync(CancellationToken cancellationToken) =>
        Context.BlockConcurrencyWhileAsync(() =>
        {
            _value = Context.Storage.Get<long>("value");
            return Task.CompletedTask;
        });

    public Task<long> IncrementAsync(long by)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(by);
        _value += by;
        Context.Storage.Put("value", _value);
        return Task.FromResult(_value);
    }
}
// end snippet: counter

public sealed record User(string Name);

public sealed record Item(long Id, string Name, double Price);

/// <summary>The storage, SQL and alarm blocks, in an object.</summary>
public sealed class Shop : DurableObject
{
    public void Storage()
    {
        // snippet: storage
        var storage = Context.Storage;
        storage.Put("user:1", new User("ada"));                  // JSON
        var user = storage.Get<User>("user:1");                  // default when missing; TryGet also exists
        storage.Put(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }); // atomic
        var some = storage.Get<int>(["a", "b", "zzz"]);          // only the keys that exist, in order asked
        storage.Delete("a"); storage.Delete(["b", "c"]);         // bool / count
        var page = storage.List<int>(new ListOptions { Prefix = "user:", Start = "user:100", End = "user:200", Limit = 50, Reverse = true });
        storage.Transaction(s => { s.Put("x", 1); s.Sql.Exec("DELETE FROM t"); }); // all or nothing; nests
        storage.DeleteAll();                                     // all KV and SQL data (not the alarm)
        long bytes = storage.SizeBytes;
        // end snippet: storage
        GC.KeepAlive((user, some, page, bytes));
    }

    public void Sql()
    {
        // snippet: sql
        var sql = Context.Storage.Sql;
        sql.Exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, price REAL)");
        sql.Exec("INSERT INTO items (name, price) VALUES (?, ?)", "pen", 1.5);
        var cursor = sql.Exec("SELECT id, name, price FROM items WHERE price > ?", 1.0);
        foreach (var row in cursor) Console.WriteLine(row["name"]);   // long, double, string, byte[] or null
        Item[] items = cursor.ToArray<Item>();                         // columns → properties (JSON names)
        long count = sql.Exec("SELECT count(*) FROM items").One<long>();
        // cursor.ColumnNames, cursor.Raw(), cursor.RowsRead, cursor.RowsWritten
        // end snippet: sql
        GC.KeepAlive((items, count));
    }

    public void Alarm()
    {
        // snippet: set-alarm
        Context.SetAlarm(Context.TimeProvider.GetUtcNow().AddSeconds(30)); // replaces any earlier alarm
        DateTimeOffset? next = Context.GetAlarm();
        Context.DeleteAlarm();
        // end snippet: set-alarm
        GC.KeepAlive(next);
    }

    // snippet: alarm
    protected override Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken)
    {
        // invocation.ScheduledTime, invocation.RetryCount, invocation.IsRetry
        Context.SetAlarm(invocation.ScheduledTime.AddMinutes(1)); // schedule the next one if you want
        return Task.CompletedTask;
    }
    // end snippet: alarm
}

/// <summary>docs/durable-objects.md: registration and a route.</summary>
internal static class DurableObjectsDocs
{
    public static void Register(string[] args)
    {
        // snippet: register
        var builder = WebApplication.CreateBuilder(args);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering()                     // one node; ports 11111/30000 by default
            .AddDurableObjects(options =>
            {
                options.DataDirectory = "data";           // {DataDirectory}/objects/{class}/{id}.db + alarms.db
                options.IdleTimeout = TimeSpan.FromMinutes(2);
            }));
        builder.Services.AddDurableObject<ICounter, Counter>("COUNTER");
        // end snippet: register
    }

    public static void Route(WebApplication app)
    {
        // snippet: route
        app.MapPost("/counters/{name}/increment", async (string name, long by, DurableObjectNamespace<ICounter> counters) =>
            await counters.GetByName(name).IncrementAsync(by));
        // end snippet: route
    }
}
