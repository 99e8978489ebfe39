using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Containers;
using Berth.Objects;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

// Live logs (issue 15): GET logs, the whole app's container output and platform records; containers/{class}/{object}/logs?platform=true.
public static partial class BerthAdminExtensions
{
    /// <summary>Content type of a followed live log: Server-Sent Events.</summary>
    internal const string EventStreamContentType = "text/event-stream";

    /// <summary>Default of <c>tail</c> on <c>GET logs</c>: the last 100 records.</summary>
    internal const int DefaultLiveTail = 100;

    /// <summary>Most containers whose logs a <c>follow=false</c> request reads at once.</summary>
    private const int SnapshotParallelism = 4;

    private static readonly JsonSerializerOptions LiveJson = new(JsonSerializerDefaults.General);

    private static void MapLiveLogs(RouteGroupBuilder group) => group.MapGet("/logs", AppLogsAsync);

    /// <summary>
    /// <c>GET logs?follow=&amp;class=&amp;object=&amp;source=&amp;level=&amp;tail=&amp;format=</c>: the app's container output and the platform's records
    /// (<see cref="LiveLogRecord"/>), as Server-Sent Events when following, else as a JSON array (or NDJSON).
    /// </summary>
    private static async Task<IResult> AppLogsAsync(
        HttpContext http, string? follow, [FromQuery(Name = "class")] string? className, [FromQuery(Name = "object")] string? objectRef,
        string? source, string? level, string? tail, string? format,
        IContainerOperations runtime, IContainerExecOperations engine, BerthAppConfig config, IOptions<ContainerOptions> node, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        var following = follow switch
        {
            null or "false" or "0" => false,
            "true" or "1" or "" => true,
            _ => (bool?)null,
        };
        if (following is null)
        {
            return BadQuery($"follow: '{Shorten(follow!)}' is not allowed; allowed: true or false.");
        }

        var (containers, platform) = source switch
        {
            null or "all" => (true, true),
            "container" => (true, false),
            "platform" => (false, true),
            _ => (false, false),
        };
        if (!containers && !platform)
        {
            return BadQuery($"source: '{Shorten(source!)}' is not allowed; allowed: {LiveLogFilter.AllowedSources}.");
        }

        LogLevel? minLevel = null;
        if (level is not null && (minLevel = LiveLogFilter.ParseLevel(level)) is null)
        {
            return BadQuery($"level: '{Shorten(level)}' is not allowed; allowed: {LiveLogFilter.AllowedLevels}.");
        }

        if (ParseTail(tail, out var lines) is { } tailError)
        {
            return tailError;
        }

        var output = (format, following.Value) switch
        {
            (null, true) or ("sse", true) => LiveFormat.Sse,
            (null, false) or ("json", false) => LiveFormat.Json,
            ("ndjson", _) => LiveFormat.Ndjson,
            _ => (LiveFormat?)null,
        };
        if (output is null)
        {
            return BadQuery(following.Value
                ? $"format: '{Shorten(format!)}' is not allowed with follow=true; allowed: sse (the default) or ndjson."
                : $"format: '{Shorten(format!)}' is not allowed; allowed: json (the default), ndjson, or sse with follow=true.");
        }

        if (className is not null && config.FindContainer(className) is null)
        {
            return Results.Problem(
                $"class: the app '{config.Name}' has no container class '{Shorten(className)}'; its classes are: {string.Join(", ", config.Containers.Select(c => c.ClassName).DefaultIfEmpty("(none)"))}.",
                statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        if (objectRef is { Length: 0 })
        {
            return BadQuery("object: empty; allowed: an object's ID, a prefix of it, or its name.");
        }

        // A name given with a class this host runs: its ID too, so records that carry only the ID match.
        if (objectRef is not null && className is not null && !PlatformLoggerProvider.IsObjectId(objectRef)
            && services.GetKeyedService<DurableObjectNamespace<IContainer>>(className) is { } named)
        {
            var byName = named.IdFromName(objectRef).ToString();
            var known = await runtime.ListAsync(new Dictionary<string, string>(NodeLabels(node.Value)) { [BerthLabels.Class] = className }, cancellationToken);
            if (!known.Any(c => Label(c, BerthLabels.ObjectId).StartsWith(objectRef, StringComparison.Ordinal)))
            {
                objectRef = byName;
            }
        }

        var filter = new LiveLogFilter(className, objectRef, containers, platform, minLevel);
        var options = services.GetRequiredService<IOptions<LiveLogOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var buffer = services.GetService<PlatformLogBuffer>();
        var enrich = Enricher(services, config, node.Value.AppName);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<LiveLogSession>();

        if (!following.Value)
        {
            var records = await SnapshotAsync(filter, lines ?? DefaultLiveTail, buffer, enrich, runtime, engine, node.Value, logger, cancellationToken);
            return new LiveLogResult(output.Value, async (write, ct) =>
            {
                foreach (var record in records)
                {
                    await write(record, ct);
                }
            });
        }

        var followers = services.GetRequiredService<LiveLogFollowers>();
        if (!followers.TryEnter())
        {
            return TooManyFollowers(followers, options, logger);
        }

        return new LiveLogResult(output.Value, async (write, ct) =>
        {
            try
            {
                var queue = new LiveLogQueue(options.FollowerQueue, time, node.Value.AppName);
                await using var session = new LiveLogSession(filter, queue, runtime, engine, NodeLabels(node.Value), node.Value.AppName, time, logger, enrich) { MaxMessageChars = options.MaxMessageChars };
                await session.StartAsync(lines ?? DefaultLiveTail, null, buffer, services.GetService<ContainerStartEvents>(), options.HeartbeatInterval, ct);

                // A heartbeat at once: the follower knows it is subscribed (and proxies see the stream open).
                await write(LiveLogQueue.Heartbeat, ct);
                await foreach (var record in session.ReadAllAsync(ct))
                {
                    await write(record, ct);
                }
            }
            finally
            {
                followers.Exit();
            }
        });
    }

    /// <summary>
    /// The last <paramref name="tail"/> records <paramref name="filter"/> wants, oldest first: platform records from the ring and the
    /// last lines of each of the node's containers (running or not), merged by time.
    /// </summary>
    private static async Task<List<LiveLogRecord>> SnapshotAsync(
        LiveLogFilter filter, int tail, PlatformLogBuffer? buffer, Func<LiveLogRecord, LiveLogRecord> enrich,
        IContainerOperations runtime, IContainerExecOperations engine, ContainerOptions node, ILogger logger, CancellationToken cancellationToken)
    {
        var records = new List<LiveLogRecord>();
        if (filter.Platform && buffer is not null)
        {
            records.AddRange(buffer.Snapshot().Select(enrich).Where(filter.WantsPlatform).TakeLast(tail));
        }

        if (filter.Containers && filter.MinLevel is null && tail > 0)
        {
            var wanted = (await runtime.ListAsync(NodeLabels(node), cancellationToken))
                .Where(c => Label(c, BerthLabels.Class).Length > 0
                    && filter.WantsContainer(Label(c, BerthLabels.Class), Label(c, BerthLabels.ObjectId), NullIfEmpty(Label(c, BerthLabels.ObjectName))))
                .ToList();
            var perContainer = new List<LiveLogRecord>[wanted.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, wanted.Count),
                new ParallelOptions { MaxDegreeOfParallelism = SnapshotParallelism, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var container = wanted[i];
                    var found = perContainer[i] = [];
                    try
                    {
                        await foreach (var line in engine.GetLogsAsync(container.Id, new LogOptions(false, tail, null), ct))
                        {
                            found.Add(ContainerRecord(line, node.AppName, container));
                        }
                    }
                    catch (ContainerRuntimeException ex)
                    {
                        // Removed while we read: the others still count.
                        Logs.Log.ContainerFailed(logger, BerthCliShort(container.Id), ex.Message);
                    }
                });
            records.AddRange(perContainer.SelectMany(r => r));
        }

        // Stable: lines of one container keep their order when the engine gave no times.
        return [.. records.OrderBy(r => r.Time).TakeLast(tail)];
    }

    /// <summary>
    /// <c>containers/{class}/{object}/logs?platform=true</c>: the container's output and the platform's records about its object,
    /// as text (platform lines start with <c>[platform level event]</c>) or NDJSON (<see cref="AdminPlatformLogLine"/>).
    /// </summary>
    private static async Task<IResult> ContainerLogsWithPlatformAsync(
        ContainerSummary container, string className, LogOptions logOptions, bool ndjson,
        IContainerOperations runtime, IContainerExecOperations engine, BerthAppConfig config, ContainerOptions node, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        var objectId = Label(container, BerthLabels.ObjectId);
        var filter = new LiveLogFilter(className, objectId, true, true, null);
        var options = services.GetRequiredService<IOptions<LiveLogOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var buffer = services.GetService<PlatformLogBuffer>();
        var enrich = Enricher(services, config, node.AppName);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<LiveLogSession>();
        var contentType = ndjson ? AdminExecStreamResult.ContentType : "text/plain; charset=utf-8";

        if (!logOptions.Follow)
        {
            var records = new List<LiveLogRecord>();
            await foreach (var line in engine.GetLogsAsync(container.Id, logOptions, cancellationToken))
            {
                records.Add(ContainerRecord(line, node.AppName, container));
            }

            if (buffer is not null)
            {
                var platform = buffer.Snapshot().Select(enrich).Where(r => filter.WantsPlatform(r) && (logOptions.Since is not { } s || r.Time >= s));
                records.AddRange(logOptions.Tail is { } n ? platform.TakeLast(n) : platform);
            }

            var sorted = records.OrderBy(r => r.Time).ToList();
            return Results.Stream(async body =>
            {
                foreach (var record in sorted)
                {
                    await WriteContainerLineAsync(body, record, ndjson, cancellationToken);
                }
            }, contentType);
        }

        var followers = services.GetRequiredService<LiveLogFollowers>();
        if (!followers.TryEnter())
        {
            return TooManyFollowers(followers, options, logger);
        }

        return Results.Stream(async body =>
        {
            using var ending = Berth.Gateway.HostStopping.Link(services, cancellationToken);
            try
            {
                var queue = new LiveLogQueue(options.FollowerQueue, time, node.AppName);
                await using var session = new LiveLogSession(filter, queue, runtime, engine, NodeLabels(node), node.AppName, time, logger, enrich, container.Id) { MaxMessageChars = options.MaxMessageChars };
                await session.StartAsync(logOptions.Tail ?? options.BufferRecords, logOptions, buffer, null, options.HeartbeatInterval, ending.Token);
                await foreach (var record in session.ReadAllAsync(ending.Token))
                {
                    if (!ReferenceEquals(record, LiveLogQueue.Heartbeat))
                    {
                        await WriteContainerLineAsync(body, record, ndjson, ending.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (ending.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The host is stopping: the follow ends cleanly instead of holding the server's graceful stop.
            }
            finally
            {
                followers.Exit();
            }
        }, contentType);
    }

    /// <summary>
    /// The 429 for one follower more than <see cref="LiveLogOptions.MaxFollowers"/> (every <c>follow=true</c> log request counts:
    /// <c>berth tail</c>, <c>berth containers logs -f</c>, the dashboard). RFC 6585 §4 is the status's definition.
    /// </summary>
    internal static IResult TooManyFollowers(LiveLogFollowers followers, LiveLogOptions options, ILogger logger)
    {
        Logs.Log.FollowerRefused(logger, followers.Count);
        return Results.Problem(
            $"Too many live log followers: {options.MaxFollowers} follow already (Berth:Logs:MaxFollowers). Stop one (Ctrl+C a 'berth tail' or 'berth containers logs -f', close a dashboard tab) or try again later.",
            statusCode: StatusCodes.Status429TooManyRequests, title: "Too many followers", type: "https://www.rfc-editor.org/rfc/rfc6585#section-4");
    }

    private static async Task WriteContainerLineAsync(Stream body, LiveLogRecord record, bool ndjson, CancellationToken cancellationToken)
    {
        var isPlatform = record.Source == LiveLogRecord.PlatformSource;
        var bytes = (ndjson, isPlatform) switch
        {
            (true, true) => JsonSerializer.SerializeToUtf8Bytes(
                new AdminPlatformLogLine(record.Time, record.Source, record.Message, record.Level, record.Category, record.EventId, record.Event), AdminJson),
            (true, false) => JsonSerializer.SerializeToUtf8Bytes(new AdminLogLine(record.Time, record.Source, record.Message), AdminJson),
            (false, true) => Encoding.UTF8.GetBytes($"[platform {record.Level}{(record.Event is { } e ? " " + e : "")}] {record.Message}"),
            (false, false) => Encoding.UTF8.GetBytes(record.Message),
        };
        await body.WriteAsync(bytes, cancellationToken);
        await body.WriteAsync("\n"u8.ToArray(), cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    private static LiveLogRecord ContainerRecord(LogLine line, string app, ContainerSummary container) =>
        new(line.Timestamp ?? container.CreatedAt, line.Stream == LogStream.Stderr ? "stderr" : "stdout", app,
            Label(container, BerthLabels.Class), Label(container, BerthLabels.ObjectId), NullIfEmpty(Label(container, BerthLabels.ObjectName)),
            BerthCliShort(container.Id), null, null, null, null, line.Text.EndsWith('\n') ? line.Text[..^1] : line.Text);

    /// <summary>Completes a platform record: the app when it did not name one, the ID of an object it named by name.</summary>
    private static Func<LiveLogRecord, LiveLogRecord> Enricher(IServiceProvider services, BerthAppConfig config, string app)
    {
        // Looked up now, not under the log buffer's lock where the enricher runs.
        var namespaces = config.Containers
            .Select(c => (c.ClassName, Objects: services.GetKeyedService<DurableObjectNamespace<IContainer>>(c.ClassName)))
            .Where(n => n.Objects is not null)
            .ToDictionary(n => n.ClassName, n => n.Objects!, StringComparer.Ordinal);
        return record =>
        {
            if (record.Source != LiveLogRecord.PlatformSource)
            {
                return record;
            }

            var result = record.App is null ? record with { App = app } : record;
            if (result is { Object: null, ObjectName: { } name, Class: { } className } && namespaces.TryGetValue(className, out var objects))
            {
                result = result with { Object = objects.IdFromName(name).ToString() };
            }

            return result;
        };
    }

    private static IResult? ParseTail(string? text, out int? tail)
    {
        tail = null;
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > LiveLogOptions.MaxTail)
        {
            return BadQuery($"tail: '{Shorten(text)}' is not allowed; allowed: a number of records 0–{LiveLogOptions.MaxTail}.");
        }

        tail = n;
        return null;
    }

    private static IResult BadQuery(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    private static string BerthCliShort(string id) => id.Length > 12 ? id[..12] : id;

    private enum LiveFormat
    {
        Sse,
        Json,
        Ndjson,
    }

    /// <summary>Writes live-log records as SSE (<c>event: log</c>, heartbeat comments), a JSON array or NDJSON, flushing each.</summary>
    private sealed class LiveLogResult(LiveFormat format, Func<Func<LiveLogRecord, CancellationToken, Task>, CancellationToken, Task> run) : IResult
    {
        private static readonly byte[] SseHeartbeat = ": heartbeat\n\n"u8.ToArray();
        private static readonly byte[] SseEvent = "event: log\ndata: "u8.ToArray();
        private static readonly byte[] SseEnd = "\n\n"u8.ToArray();

        // The last event of a stream the host ended because it is stopping (docs/operations.md): a follower (berth tail) can
        // tell a stop from a dropped connection. A named event, so readers of "log" events alone pass over it.
        private static readonly byte[] SseHostStopping = "event: end\ndata: {\"reason\":\"host_stopping\"}\n\n"u8.ToArray();

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            var body = response.Body;
            // A follower ends when the host stops too, or it would hold the server's graceful stop for its whole timeout.
            using var ending = Berth.Gateway.HostStopping.Link(httpContext.RequestServices, httpContext.RequestAborted);
            var cancellationToken = ending.Token;
            response.StatusCode = StatusCodes.Status200OK;
            response.Headers.CacheControl = "no-store";
            response.ContentType = format switch
            {
                LiveFormat.Sse => EventStreamContentType,
                LiveFormat.Ndjson => AdminExecStreamResult.ContentType,
                _ => "application/json; charset=utf-8",
            };
            if (format == LiveFormat.Sse)
            {
                // Proxies (nginx) would otherwise hold the events back.
                response.Headers["X-Accel-Buffering"] = "no";
            }

            var first = true;
            if (format == LiveFormat.Json)
            {
                await body.WriteAsync("["u8.ToArray(), cancellationToken);
            }

            try
            {
                await run(async (record, ct) =>
                {
                    if (ReferenceEquals(record, LiveLogQueue.Heartbeat))
                    {
                        if (format == LiveFormat.Sse)
                        {
                            await body.WriteAsync(SseHeartbeat, ct);
                            await body.FlushAsync(ct);
                        }

                        return;
                    }

                    var json = JsonSerializer.SerializeToUtf8Bytes(record, LiveJson);
                    switch (format)
                    {
                        case LiveFormat.Sse:
                            await body.WriteAsync(SseEvent, ct);
                            await body.WriteAsync(json, ct);
                            await body.WriteAsync(SseEnd, ct);
                            await body.FlushAsync(ct);
                            break;
                        case LiveFormat.Ndjson:
                            await body.WriteAsync(json, ct);
                            await body.WriteAsync("\n"u8.ToArray(), ct);
                            await body.FlushAsync(ct);
                            break;
                        default:
                            if (!first)
                            {
                                await body.WriteAsync(","u8.ToArray(), ct);
                            }

                            await body.WriteAsync(json, ct);
                            break;
                    }

                    first = false;
                }, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The follower went away, or the host is stopping (the stream ends cleanly): its engine streams were closed with the session.
                if (format == LiveFormat.Sse && !httpContext.RequestAborted.IsCancellationRequested)
                {
                    await WriteHostStoppingAsync(body, httpContext.RequestAborted);
                }

                return;
            }

            if (format == LiveFormat.Json)
            {
                await body.WriteAsync("]"u8.ToArray(), cancellationToken);
            }
        }

        private static async Task WriteHostStoppingAsync(Stream body, CancellationToken requestAborted)
        {
            try
            {
                await body.WriteAsync(SseHostStopping, requestAborted);
                await body.FlushAsync(requestAborted);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The follower went away meanwhile: nobody to tell.
            }
        }
    }
}

/// <summary>
/// A platform record beside a container's output (<c>containers/{class}/{object}/logs?platform=true&amp;format=ndjson</c>): <c>stream</c> is
/// <c>platform</c>, with the record's level, category, event ID and event name.
/// </summary>
internal sealed record AdminPlatformLogLine(
    DateTimeOffset? Time, string Stream, string Text, string? Level, string? Category,
    [property: JsonPropertyName("event_id")] int? EventId, string? Event);
