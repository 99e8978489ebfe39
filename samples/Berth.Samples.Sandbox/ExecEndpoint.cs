using System.Text;
using Berth.Containers;
using Berth.Gateway;

namespace Berth.Samples.Sandbox;

/// <summary>Body of <c>POST /sandbox/{session}/exec</c>: a shell command line and optional standard input.</summary>
public sealed record ExecRequest(string? Command, string? Stdin = null);

/// <summary>What the command printed and how it ended.</summary>
public sealed record ExecResponse(string Session, string ObjectId, int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs <c>/bin/sh -c &lt;command&gt;</c> in the session's container, starting it first when it sleeps:
/// the seed's "execute code per session" story, as an RPC on the container object.
/// </summary>
public static partial class ExecEndpoint
{
    /// <summary>Longest command line accepted.</summary>
    public const int MaxCommandLength = 4096;

    /// <summary>How long a command may run; well below the sandbox's one-minute sleep.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<IResult> RunAsync(
        string session, ExecRequest? request, ContainerNamespace<Sandbox> sandboxes, ILogger<Sandbox> logger, CancellationToken cancellationToken)
    {
        if (request?.Command is not { Length: > 0 and <= MaxCommandLength } command || string.IsNullOrWhiteSpace(command))
        {
            return Results.Problem($"command: required; allowed: a shell command line of 1–{MaxCommandLength} characters, such as \"ls -l /tmp\".",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var sandbox = sandboxes.GetByName(session);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            // Exec needs a running container; the gateway's routes start it on demand, an RPC must ask.
            await sandbox.Object.StartAndWaitForPortsAsync(cancellationToken: timeout.Token);
            LogExec(logger, session, command);
            var stdin = request.Stdin is null ? null : Encoding.UTF8.GetBytes(request.Stdin);
            var result = await sandbox.Object.ExecAsync(["/bin/sh", "-c", command], stdin, timeout.Token);
            return Results.Ok(new ExecResponse(session, sandbox.Id.ToString(), result.ExitCode, result.Stdout, result.Stderr));
        }
        catch (ContainerStartException ex)
        {
            var status = ex.Error == ContainerReadyError.CapacityExceeded ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway;
            return Results.Problem(ex.Message, statusCode: status, title: $"Sandbox could not start ({ex.Error})");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Results.Problem($"The command did not finish within {Timeout.TotalSeconds:0} s.", statusCode: StatusCodes.Status504GatewayTimeout);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Session {Session}: exec '{Command}'")]
    private static partial void LogExec(ILogger logger, string session, string command);
}
