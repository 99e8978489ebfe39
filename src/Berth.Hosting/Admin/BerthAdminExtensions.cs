using Berth.Containers;
using Berth.Objects;
using System.Net;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Hosting;

/// <summary>
/// The admin API the <c>berth</c> CLI talks to, under <c>/_berth/admin</c>: list the app's containers, read their logs,
/// run commands in them and stop them. Answers only on loopback and only with the bearer token (<see cref="AdminOptions.Token"/>).
/// </summary>
public static partial class BerthAdminExtensions
{
    private static readonly JsonSerializerOptions AdminJson = new(JsonSerializerDefaults.Web);

    /// <summary>The path prefix of every admin endpoint.</summary>
    public const string RoutePrefix = "/_berth/admin";

    /// <summary>
    /// Registers the admin API's options (bound from <c>Berth:Admin</c>, validated at start) and its token.
    /// The app must also register <see cref="IContainerRuntime"/> (the endpoints take its narrow views, registered here) and its <see cref="BerthAppConfig"/>.
    /// </summary>
    public static IServiceCollection AddBerthAdmin(this IServiceCollection services, Action<AdminOptions>? configure = null)
    {
        var options = services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.TryAddSingleton<AdminToken>();
        services.AddHostedService(sp => sp.GetRequiredService<AdminToken>());
        services.AddContainerRuntimeOperations();
        services.AddBerthLiveLogs();
        return services;
    }

    /// <summary>
    /// Maps <c>GET containers</c>, <c>GET containers/{class}/{object}/logs?follow=&amp;tail=&amp;since=&amp;format=&amp;platform=</c>,
    /// <c>GET logs?follow=&amp;class=&amp;object=&amp;source=&amp;level=&amp;tail=&amp;format=</c> (live logs, <see cref="LiveLogRecord"/>; docs/operations.md),
    /// <c>POST containers/{class}/{object}/exec</c> (streams NDJSON frames, see <c>docs/cli.md</c>), <c>POST containers/{class}/{object}/stop?grace=</c>
    /// and <c>DELETE containers/{class}/{object}</c> (destroy); stop, exec and destroy go through the owning object when this host runs its class
    /// under <see cref="RoutePrefix"/>. <c>{object}</c> is the object's ID, its name (as given to <c>IdFromName</c>), or an unambiguous
    /// prefix of its ID, tried in that order. Versions and deploys (docs/deploys.md): <c>POST classes/{class}/deploy?percent=&amp;dockerfile=</c>,
    /// <c>GET classes/{class}/versions</c>, <c>GET classes/{class}/versions/{n}</c>, <c>POST classes/{class}/rollback</c>,
    /// <c>GET classes/{class}/rollout</c> and <c>GET rollouts</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="AddBerthAdmin"/> was not called, or no config file was loaded (<c>UseConfigFile</c>).</exception>
    public static RouteGroupBuilder MapBerthAdmin(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<AdminToken>() is null)
        {
            throw new InvalidOperationException("MapBerthAdmin needs its services: call builder.Services.AddBerthAdmin() first.");
        }

        // Fail at start-up, not on every request: the admin API answers for the app its config file names.
        if (endpoints.ServiceProvider.GetService<BerthAppConfig>() is null)
        {
            throw new InvalidOperationException(
                "MapBerthAdmin needs the app's config file: call berth.UseConfigFile() in AddBerth(...), so the admin API knows the app and its classes.");
        }

        var group = endpoints.MapGroup(RoutePrefix).AddEndpointFilter(GuardAsync).ExcludeFromDescription();
        group.MapGet("/containers", ListAsync);
        group.MapGet("/containers/{className}/{objectId}/logs", LogsAsync);
        group.MapPost("/containers/{className}/{objectId}/exec", ExecAsync);
        group.MapPost("/containers/{className}/{objectId}/stop", StopAsync);
        group.MapDelete("/containers/{className}/{objectId}", DestroyAsync);
        MapVersions(group);
        MapUsage(group);
        MapLiveLogs(group);
        return group;
    }

    /// <summary>Loopback and token checks, and engine errors turned into problem responses.</summary>
    private static async ValueTask<object?> GuardAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var remote = http.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
        {
            return Results.Problem("The Berth admin API answers only requests from loopback (127.0.0.1 or ::1).",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        var authorization = http.Request.Headers.Authorization.ToString();
        var token = http.RequestServices.GetRequiredService<AdminToken>();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !token.Matches(authorization.AsSpan(7).Trim()))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(
                // Not the file's path: whoever has no token learns nothing about the host's layout.
                "Missing or wrong admin token. Send 'Authorization: Bearer <token>'; unless Berth:Admin:Token is set, the token is in the file admin-token in the node's data directory.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        try
        {
            return await next(context);
        }
        catch (ContainerRuntimeException ex) when (!http.Response.HasStarted)
        {
            var status = ex.Error switch
            {
                ContainerRuntimeError.ContainerNotFound => StatusCodes.Status404NotFound,
                ContainerRuntimeError.Conflict => StatusCodes.Status409Conflict,
                ContainerRuntimeError.EngineUnavailable => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            };
            return Results.Problem(ex.Message, statusCode: status, title: $"Container engine: {ex.Error}");
        }
    }

    private static async Task<IResult> ListAsync(IContainerOperations runtime, IOptions<ContainerOptions> node, IServiceProvider services, CancellationToken cancellationToken)
    {
        var containers = await runtime.ListAsync(NodeLabels(node.Value), cancellationToken);
        // CPU and memory of the running ones (metering's reader: cgroup files, bounded in time).
        var resources = await ReadResourcesAsync(containers, services, cancellationToken);
        var recorder = services.GetService<UsageRecorder>();
        return Results.Ok(containers
            .OrderBy(c => Label(c, BerthLabels.Class), StringComparer.Ordinal)
            .ThenBy(c => Label(c, BerthLabels.ObjectId), StringComparer.Ordinal)
            .Select(c => new AdminContainer(
                c.Id, c.Name, Label(c, BerthLabels.Class), Label(c, BerthLabels.ObjectId), NullIfEmpty(Label(c, BerthLabels.ObjectName)),
                c.State.ToString().ToLowerInvariant(),
                c.Image, Label(c, BerthLabels.Version), c.CreatedAt,
                resources.GetValueOrDefault(c.Id)?.CpuNanoseconds / 1e9, resources.GetValueOrDefault(c.Id)?.MemoryBytes,
                c.State == EngineContainerState.Running ? recorder?.GetStartedAt(c.Id) : null)));
    }

    private static async Task<IResult> LogsAsync(
        string className, string objectId, bool? follow, int? tail, string? since, string? format, string? platform,
        IContainerOperations runtime, IContainerExecOperations exec, BerthAppConfig config, IOptions<ContainerOptions> node, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        if (tail is < 0)
        {
            return Results.Problem($"tail: {tail} is not allowed; allowed: a number of lines ≥ 0.", statusCode: StatusCodes.Status400BadRequest);
        }

        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                || parsed < DateTimeOffset.UnixEpoch)
            {
                return Results.Problem($"since: '{Shorten(since)}' is not allowed; allowed: an RFC 3339 time such as 2026-01-02T03:04:05Z.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            from = parsed;
        }

        var ndjson = format switch
        {
            null or "text" => false,
            "ndjson" => true,
            _ => (bool?)null,
        };
        if (ndjson is null)
        {
            return Results.Problem($"format: '{Shorten(format!)}' is not allowed; allowed: text (the default) or ndjson.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        if (platform is not (null or "true" or "false"))
        {
            return Results.Problem($"platform: '{Shorten(platform)}' is not allowed; allowed: true or false (the default).", statusCode: StatusCodes.Status400BadRequest);
        }

        var (container, error) = await ResolveAsync(runtime, config, node.Value, services, className, objectId, cancellationToken);
        if (container is null)
        {
            return error!;
        }

        var options = new LogOptions(follow ?? false, tail, from);
        if (platform == "true")
        {
            return await ContainerLogsWithPlatformAsync(container, className, options, ndjson.Value, runtime, exec, config, node.Value, services, cancellationToken);
        }

        // A follow holds a stream to the engine for as long as the client stays: it counts against the same cap as every follower.
        var followers = options.Follow ? services.GetRequiredService<LiveLogFollowers>() : null;
        if (followers is not null && !followers.TryEnter())
        {
            return TooManyFollowers(followers, services.GetRequiredService<IOptions<LiveLogOptions>>().Value, services.GetRequiredService<ILoggerFactory>().CreateLogger<LiveLogSession>());
        }

        return Results.Stream(async body =>
        {
            // A follow ends when the host stops too, or it would hold the server's graceful stop for its whole timeout.
            using var ending = options.Follow ? Berth.Gateway.HostStopping.Link(services, cancellationToken) : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await foreach (var line in exec.GetLogsAsync(container.Id, options, ending.Token))
                {
                    var text = line.Text.EndsWith('\n') ? line.Text[..^1] : line.Text;
                    var bytes = ndjson.Value
                        ? JsonSerializer.SerializeToUtf8Bytes(
                            new AdminLogLine(line.Timestamp, line.Stream == LogStream.Stderr ? "stderr" : "stdout", text), AdminJson)
                        : Encoding.UTF8.GetBytes(text);
                    await body.WriteAsync(bytes, ending.Token);
                    await body.WriteAsync("\n"u8.ToArray(), ending.Token);

                    // Followers want each line as it comes, not when a buffer fills.
                    await body.FlushAsync(ending.Token);
                }
            }
            catch (OperationCanceledException) when (ending.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The host is stopping: the follow ends cleanly.
            }
            finally
            {
                followers?.Exit();
            }
        }, ndjson.Value ? AdminExecStreamResult.ContentType : "text/plain; charset=utf-8");
    }

    private static async Task<IResult> ExecAsync(
        string className, string objectId, AdminExecRequest request,
        IContainerOperations runtime, IContainerExecOperations engineExec, BerthAppConfig config, IOptions<ContainerOptions> node, ILoggerFactory loggers, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        if (request?.Command is not { Count: > 0 } command || command.Any(string.IsNullOrEmpty))
        {
            return Results.Problem("command: required; allowed: a non-empty array of non-empty strings, such as [\"ls\", \"-l\"].",
                statusCode: StatusCodes.Status400BadRequest);
        }

        byte[]? stdin = null;
        if (request.Stdin is { } encoded)
        {
            try
            {
                stdin = Convert.FromBase64String(encoded);
            }
            catch (FormatException)
            {
                return Results.Problem("stdin: not base64; allowed: the command's standard input as a base64 string.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            if (stdin.Length > AdminOptions.MaxExecStdinBytes)
            {
                return Results.Problem(
                    $"stdin: {stdin.Length} bytes is not allowed; allowed: at most {AdminOptions.MaxExecStdinBytes} bytes of standard input.",
                    statusCode: StatusCodes.Status400BadRequest);
            }
        }

        var (container, error) = await ResolveAsync(runtime, config, node.Value, services, className, objectId, cancellationToken);
        if (container is null)
        {
            return error!;
        }

        Log.Exec(loggers.CreateLogger(typeof(BerthAdminExtensions)), string.Join(' ', command), className, Label(container, BerthLabels.ObjectId));
        var exec = new ContainerExecRequest { Command = command, Stdin = stdin, Capped = false };
        if (ObjectOf(services, container) is { } owner)
        {
            // Through the owning object: the container does not go to sleep under a long command, and the output is pulled
            // in bounded chunks, so host memory stays bounded whatever the command writes.
            IAsyncEnumerator<ContainerExecChunk> chunks;
            bool any;
            try
            {
                chunks = owner.StreamExecAsync(exec, cancellationToken).GetAsyncEnumerator(cancellationToken);
                any = await chunks.MoveNextAsync();
            }
            catch (InvalidOperationException ex)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict, title: "Not running");
            }

            return new AdminExecStreamResult(async (writer, ct) =>
            {
                await using (chunks)
                {
                    while (any)
                    {
                        var chunk = chunks.Current;
                        foreach (var frame in chunk.Frames)
                        {
                            await writer.WriteFrameAsync(frame.Stream, frame.Data, ct);
                        }

                        if (chunk.Completed)
                        {
                            await writer.WriteExitAsync(chunk.ExitCode ?? -1, ct);
                            return;
                        }

                        await writer.FlushAsync(ct);
                        any = await chunks.MoveNextAsync();
                    }
                }
            });
        }

        // No object of this class runs on this host: the engine directly, its output passed on as it comes.
        return new AdminExecStreamResult(async (writer, ct) =>
        {
            var exitCode = await engineExec.ExecAsync(container.Id, new ExecSpec { Command = command },
                new ExecStreams(stdin is null ? null : new MemoryStream(stdin, writable: false), writer.For(ContainerExecStream.Stdout), writer.For(ContainerExecStream.Stderr)), ct);
            await writer.WriteExitAsync(exitCode, ct);
        });
    }

    private static async Task<IResult> StopAsync(
        string className, string objectId, int? grace,
        IContainerOperations runtime, BerthAppConfig config, IOptions<ContainerOptions> node, ILoggerFactory loggers, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        if (grace is { } seconds && (seconds < 0 || TimeSpan.FromSeconds(seconds) > AdminOptions.MaxStopGracePeriod))
        {
            return Results.Problem($"grace: {seconds} is not allowed; allowed: seconds 0–{AdminOptions.MaxStopGracePeriod.TotalSeconds}.",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var (container, error) = await ResolveAsync(runtime, config, node.Value, services, className, objectId, cancellationToken);
        if (container is null)
        {
            return error!;
        }

        var fullObjectId = Label(container, BerthLabels.ObjectId);
        if (ObjectOf(services, container) is { } owner)
        {
            if (grace is not null)
            {
                return Results.Problem(
                    $"grace: not allowed for class '{className}', whose objects run on this host: they stop their container with the class's " +
                    "stop grace period (Berth:Containers:StopGracePeriod). Leave grace out, or use destroy to remove the container at once.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            // The object owns the container: it stops it with its class's grace period, runs its hooks and records the
            // stop as requested (not as a crash).
            Log.StopThroughObject(loggers.CreateLogger(typeof(BerthAdminExtensions)), className, fullObjectId);
            await owner.StopAsync(ContainerSignal.SIGTERM, cancellationToken);
            var state = await owner.GetStateAsync(cancellationToken);
            return Results.Ok(new AdminStopResult(container.Id, className, fullObjectId, state.ExitCode ?? 0,
                string.Equals(state.Reason, nameof(StopReason.OutOfMemory), StringComparison.OrdinalIgnoreCase)));
        }

        var gracePeriod = grace is { } g ? TimeSpan.FromSeconds(g) : node.Value.StopGracePeriod;
        Log.Stop(loggers.CreateLogger(typeof(BerthAdminExtensions)), className, fullObjectId, gracePeriod.TotalSeconds);
        var exit = await runtime.StopAsync(container.Id, new StopOptions(ContainerSignal.SIGTERM, gracePeriod), cancellationToken);
        return Results.Ok(new AdminStopResult(container.Id, className, fullObjectId, exit.ExitCode, exit.OomKilled));
    }

    private static async Task<IResult> DestroyAsync(
        string className, string objectId,
        IContainerOperations runtime, BerthAppConfig config, IOptions<ContainerOptions> node, ILoggerFactory loggers, IServiceProvider services, CancellationToken cancellationToken)
    {
        var (container, error) = await ResolveAsync(runtime, config, node.Value, services, className, objectId, cancellationToken);
        if (container is null)
        {
            return error!;
        }

        var fullObjectId = Label(container, BerthLabels.ObjectId);
        Log.Destroy(loggers.CreateLogger(typeof(BerthAdminExtensions)), className, fullObjectId);
        if (ObjectOf(services, container) is { } owner)
        {
            await owner.DestroyAsync(cancellationToken);
        }
        else
        {
            await runtime.RemoveAsync(container.Id, cancellationToken);
        }

        return Results.Ok(new AdminDestroyResult(container.Id, className, fullObjectId));
    }

    /// <summary>The object that owns <paramref name="container"/>, when this host runs its class.</summary>
    private static IContainer? ObjectOf(IServiceProvider services, ContainerSummary container) =>
        services.GetKeyedService<DurableObjectNamespace<IContainer>>(Label(container, BerthLabels.Class)) is { } objects
        && DurableObjectId.TryParse(Label(container, BerthLabels.ObjectId), out var id)
            ? objects.Get(id)
            : null;

    /// <summary>
    /// Finds the container of <paramref name="className"/> for <paramref name="objectRef"/>: the object whose ID it is, else
    /// the object whose name it is (the container's name label, or the ID <c>IdFromName</c> gives when this host runs the
    /// class), else the one object whose ID starts with it. Of several containers of one object (a rollout), the running,
    /// newest one wins.
    /// </summary>
    private static async Task<(ContainerSummary? Container, IResult? Error)> ResolveAsync(
        IContainerOperations runtime, BerthAppConfig config, ContainerOptions node, IServiceProvider services, string className, string objectRef,
        CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, string>(NodeLabels(node)) { [BerthLabels.Class] = className };
        var candidates = await runtime.ListAsync(labels, cancellationToken);
        var matches = candidates.Where(c => Label(c, BerthLabels.ObjectId) == objectRef).ToList();
        if (matches.Count == 0)
        {
            matches = [.. candidates.Where(c => Label(c, BerthLabels.ObjectName) == objectRef)];
        }

        if (matches.Count == 0 && services.GetKeyedService<DurableObjectNamespace<IContainer>>(className) is { } objects)
        {
            var byName = objects.IdFromName(objectRef).ToString();
            matches = [.. candidates.Where(c => Label(c, BerthLabels.ObjectId) == byName)];
        }

        if (matches.Count == 0)
        {
            matches = [.. candidates.Where(c => Label(c, BerthLabels.ObjectId).StartsWith(objectRef, StringComparison.Ordinal))];
        }

        var objectIds = matches.Select(c => Label(c, BerthLabels.ObjectId)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (objectIds.Count > 1)
        {
            return (null, Results.Problem(
                $"Object ID prefix '{Shorten(objectRef)}' is ambiguous for class '{Shorten(className)}': it matches {string.Join(", ", objectIds)}. Give more characters.",
                statusCode: StatusCodes.Status409Conflict, title: "Ambiguous object ID"));
        }

        if (objectIds.Count == 0)
        {
            var hint = config.FindContainer(className) is null
                ? $" The app has no container class '{Shorten(className)}'; its classes are: {string.Join(", ", config.Containers.Select(c => c.ClassName).DefaultIfEmpty("(none)"))}."
                : " 'berth containers list' shows the containers that exist; an object has one only while it runs (Berth removes a container once it stops: 'berth tail -o NAME' has a stopped one's output).";
            return (null, Results.Problem(
                $"No container of class '{Shorten(className)}' with object name or ID '{Shorten(objectRef)}' in app '{config.Name}'.{hint}",
                statusCode: StatusCodes.Status404NotFound, title: "Not found"));
        }

        var chosen = matches
            .OrderByDescending(c => c.State == EngineContainerState.Running)
            .ThenByDescending(c => c.CreatedAt)
            .First();
        return (chosen, null);
    }

    /// <summary>Client text quoted in a message, cut to 100 characters.</summary>
    private static string Shorten(string text) => text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 97), "...");

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    // This node's containers only: another node of the same app on this engine owns its own (issue 9 case 11).
    private static Dictionary<string, string> NodeLabels(ContainerOptions node) => BerthNames.ForNode(node.AppName, node.NodeId);

    private static string Label(ContainerSummary container, string label) => BerthNames.Label(container.Labels, label);

}

/// <summary>A container as listed by the admin API; <c>object_name</c> is <see langword="null"/> when the object was not reached by name.</summary>
/// <remarks>
/// Serialized in snake_case, like the live logs, usage and dashboard JSON (<c>object_name</c>, not <c>objectName</c>, since the
/// metering fields joined it; the <c>berth</c> CLI still reads <c>objectName</c> from older hosts).
/// <c>cpu_seconds</c> (CPU used since the container was created, in seconds), <c>memory_bytes</c> (memory in use) and <c>started_at</c>
/// (when it started running, as metering saw it) are set for running containers, <see langword="null"/> otherwise (docs/metering.md).
/// </remarks>
internal sealed record AdminContainer(
    string Id, string Name, string Class, string Object,
    [property: System.Text.Json.Serialization.JsonPropertyName("object_name")] string? ObjectName,
    string State, string Image, string Version, DateTimeOffset Created,
    [property: System.Text.Json.Serialization.JsonPropertyName("cpu_seconds")] double? CpuSeconds = null,
    [property: System.Text.Json.Serialization.JsonPropertyName("memory_bytes")] long? MemoryBytes = null,
    [property: System.Text.Json.Serialization.JsonPropertyName("started_at")] DateTimeOffset? StartedAt = null);

/// <summary>One log line of <c>logs?format=ndjson</c>: when the engine got it (or <see langword="null"/>), <c>stdout</c>/<c>stderr</c>, the text.</summary>
internal sealed record AdminLogLine(DateTimeOffset? Time, string Stream, string Text);

/// <summary>Body of an exec request: the command and, optionally, its standard input as base64.</summary>
internal sealed record AdminExecRequest(IReadOnlyList<string>? Command, string? Stdin = null);

/// <summary>What a destroy removed.</summary>
internal sealed record AdminDestroyResult(string Id, string Class, string Object);

/// <summary>How a stopped container ended.</summary>
internal sealed record AdminStopResult(string Id, string Class, string Object, int ExitCode, bool OomKilled);
