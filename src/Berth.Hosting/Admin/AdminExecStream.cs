using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Http;

namespace Berth.Hosting;

/// <summary>
/// The admin API's exec answer: <c>application/x-ndjson</c>, one JSON object a line, written as the command's output comes:
/// <c>{"stream":"stdout"|"stderr","data":"&lt;base64&gt;"}</c> for output (bytes as written, at most 64 KiB a frame),
/// then <c>{"exitCode":N}</c>, or <c>{"error":{"code":"…","message":"…"}}</c> when the exec failed after the answer began.
/// </summary>
internal sealed class AdminExecStreamResult(Func<AdminExecWriter, CancellationToken, Task> run) : IResult
{
    public const string ContentType = "application/x-ndjson";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        // A command ends when the host stops too (cancelled, with an exec_cancelled frame): an interactive exec left open
        // would otherwise hold the server's graceful stop for its whole timeout, as a log follower did.
        using var ending = Berth.Gateway.HostStopping.Link(httpContext.RequestServices, httpContext.RequestAborted);
        var cancellationToken = ending.Token;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        var writer = new AdminExecWriter(response.Body);
        try
        {
            await run(writer, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (!httpContext.RequestAborted.IsCancellationRequested)
            {
                // The host is stopping: say so, then end the answer cleanly.
                await writer.WriteErrorAsync("exec_cancelled", "The host is stopping; the command was cancelled.", httpContext.RequestAborted);
                await writer.FlushAsync(httpContext.RequestAborted);
            }

            // Else the caller went away; the exec was cancelled with it.
            return;
        }
        catch (Exception ex) when (ex is ContainerRuntimeException or TimeoutException or InvalidOperationException or KeyNotFoundException or OperationCanceledException)
        {
            var code = ex switch
            {
                ContainerRuntimeException runtime => "engine_" + runtime.Error.ToString().ToLowerInvariant(),
                TimeoutException => "exec_timeout",
                KeyNotFoundException => "exec_abandoned",
                OperationCanceledException => "exec_cancelled",
                _ => "exec_failed",
            };
            await writer.WriteErrorAsync(code, ex.Message, cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
    }
}

/// <summary>Writes NDJSON exec frames to a response body; one writer at a time.</summary>
internal sealed class AdminExecWriter(Stream body)
{
    private static readonly byte[] StdoutPrefix = "{\"stream\":\"stdout\",\"data\":\""u8.ToArray();
    private static readonly byte[] StderrPrefix = "{\"stream\":\"stderr\",\"data\":\""u8.ToArray();
    private static readonly byte[] FrameEnd = "\"}\n"u8.ToArray();
    private const int MaxFrame = 64 * 1024;

    /// <summary>A write-only stream whose writes become frames of <paramref name="stream"/>.</summary>
    public Stream For(ContainerExecStream stream) => new FrameStream(this, stream);

    public async Task WriteFrameAsync(ContainerExecStream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var piece = data[..Math.Min(data.Length, MaxFrame)];
            data = data[piece.Length..];
            var prefix = stream == ContainerExecStream.Stderr ? StderrPrefix : StdoutPrefix;
            var length = prefix.Length + Base64.GetMaxEncodedToUtf8Length(piece.Length) + FrameEnd.Length;
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                prefix.CopyTo(buffer, 0);
                Base64.EncodeToUtf8(piece.Span, buffer.AsSpan(prefix.Length), out _, out var written);
                FrameEnd.CopyTo(buffer, prefix.Length + written);
                await body.WriteAsync(buffer.AsMemory(0, prefix.Length + written + FrameEnd.Length), cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    public async Task WriteExitAsync(int exitCode, CancellationToken cancellationToken)
    {
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new ExitFrame(exitCode), AdminJson.Web), cancellationToken);
        await body.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    public async Task WriteErrorAsync(string code, string message, CancellationToken cancellationToken)
    {
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(new ErrorFrame(new ErrorBody(code, message)), AdminJson.Web), cancellationToken);
        await body.WriteAsync("\n"u8.ToArray(), cancellationToken);
    }

    public Task FlushAsync(CancellationToken cancellationToken) => body.FlushAsync(cancellationToken);

    private sealed record ExitFrame(int ExitCode);

    private sealed record ErrorFrame(ErrorBody Error);

    private sealed record ErrorBody(string Code, string Message);

    private sealed class FrameStream(AdminExecWriter writer, ContainerExecStream stream) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await writer.WriteFrameAsync(stream, buffer, cancellationToken);
            await writer.FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

internal static class AdminJson
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
