using System.Threading.Channels;
using Berth.Runtime;

namespace Berth.Containers;

/// <summary>
/// One command running in a container, with its output in a bounded buffer the caller drains with <see cref="ReadAsync"/>.
/// The command runs off the object's scheduler; the buffer holds at most <see cref="ContainerExecOptions.BufferBytes"/>
/// (when full, the engine's stream is not read, so the command blocks writing), a capped session discards output past
/// <see cref="ContainerExecOptions.MaxOutputBytes"/> per stream, and a session nobody pulls for
/// <see cref="ContainerExecOptions.AbandonAfter"/> is cancelled.
/// </summary>
internal sealed class ContainerExecSession : IDisposable
{
    private readonly Channel<ContainerExecFrame> _buffer;
    private readonly CancellationTokenSource _cancellation;
    private readonly ContainerExecOptions _options;
    private readonly TimeProvider _time;
    private readonly ITimer _watchdog;
    private readonly OutputStream _stdout;
    private readonly OutputStream _stderr;
    private readonly Action<ContainerExecSession> _onEnded;
    private long _lastPull;
    private int _exitCode;
    private Exception? _error;
    private int _ended;

    private ContainerExecSession(ContainerExecRequest request, ContainerExecOptions options, TimeProvider time, Action<ContainerExecSession> onEnded)
    {
        _options = options;
        _time = time;
        _onEnded = onEnded;
        var frames = Math.Max(1, options.BufferBytes / ContainerExecOptions.FrameBytes);
        _buffer = Channel.CreateBounded<ContainerExecFrame>(new BoundedChannelOptions(frames)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = false,
        });
        _cancellation = new CancellationTokenSource(options.Timeout, time);
        long? cap = request.Capped ? options.MaxOutputBytes : null;
        _stdout = new OutputStream(this, ContainerExecStream.Stdout, cap);
        _stderr = new OutputStream(this, ContainerExecStream.Stderr, cap);
        _lastPull = time.GetTimestamp();
        var period = options.AbandonAfter / 4;
        _watchdog = time.CreateTimer(static state => ((ContainerExecSession)state!).CheckAbandoned(), this, period, period);
    }

    /// <summary>The session's ID, given to the caller.</summary>
    public Guid Id { get; } = Guid.NewGuid();

    /// <summary>Completes when the command ended (or failed, or was cancelled) and the buffer got its last frame.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts <paramref name="request"/> in container <paramref name="containerId"/>; <paramref name="onEnded"/> runs once, when the session is done with.</summary>
    public static ContainerExecSession Start(
        IContainerExecOperations runtime, string containerId, ContainerExecRequest request, ContainerExecOptions options, TimeProvider time,
        Action<ContainerExecSession> onEnded, Action? onCommandEnded)
    {
        var session = new ContainerExecSession(request, options, time, onEnded);

        // Off the object's scheduler: the command may run for minutes and must not hold the object's turn.
        session.Completion = Task.Run(async () =>
        {
            using var stdin = request.Stdin is null ? null : new MemoryStream(request.Stdin, writable: false);
            try
            {
                session._exitCode = await runtime.ExecAsync(containerId, new ExecSpec { Command = request.Command },
                    new ExecStreams(stdin, session._stdout, session._stderr), session._cancellation.Token);
            }
            catch (OperationCanceledException) when (session._cancellation.IsCancellationRequested)
            {
                session._error = session.Cancelled
                    ? new OperationCanceledException("The exec was cancelled.")
                    : new TimeoutException($"The command ran longer than {options.Timeout.TotalSeconds:0.#} s (ContainerExecOptions.Timeout) and was cancelled.");
            }
            catch (Exception ex)
            {
                session._error = ex;
            }
            finally
            {
                session._buffer.Writer.TryComplete();
                onCommandEnded?.Invoke();
            }
        });
        return session;
    }

    private bool Cancelled { get; set; }

    /// <summary>
    /// Returns the output buffered so far, waiting up to <see cref="ContainerExecOptions.PollWait"/> for the first frame;
    /// once the command ended and all its output was returned, the last chunk with its exit code (and the session ends).
    /// </summary>
    public async Task<ContainerExecChunk> ReadAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastPull, _time.GetTimestamp());
        var reader = _buffer.Reader;
        var frames = new List<ContainerExecFrame>();
        using (var slice = new CancellationTokenSource(_options.PollWait, _time))
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, slice.Token))
        {
            try
            {
                await reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing within the slice: answer with nothing, the caller asks again.
            }
        }

        var bytes = 0;
        while (bytes < ContainerExecOptions.MaxChunkBytes && reader.TryRead(out var frame))
        {
            frames.Add(frame);
            bytes += frame.Data.Length;
        }

        Volatile.Write(ref _lastPull, _time.GetTimestamp());
        if (frames.Count > 0 || !reader.Completion.IsCompleted)
        {
            return new ContainerExecChunk(frames, false, null, _stdout.Truncated, _stderr.Truncated);
        }

        await Completion;
        End();
        if (_error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
        }

        return new ContainerExecChunk(frames, true, _exitCode, _stdout.Truncated, _stderr.Truncated);
    }

    /// <summary>Cancels the command and drops its output.</summary>
    public void Cancel()
    {
        Cancelled = true;
        End();
    }

    private void CheckAbandoned()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastPull)) >= _options.AbandonAfter)
        {
            Cancel();
        }
    }

    private void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _watchdog.Dispose();
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        // Drop what is buffered so its memory goes now, not when the object does.
        while (_buffer.Reader.TryRead(out _))
        {
        }

        _onEnded(this);
    }

    public void Dispose() => End();

    /// <summary>Where the runtime writes one of the command's streams: copies into bounded frames, back-pressured by the buffer.</summary>
    private sealed class OutputStream(ContainerExecSession session, ContainerExecStream stream, long? cap) : Stream
    {
        private long _kept;

        public bool Truncated { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cap is { } limit)
            {
                var room = (int)Math.Min(buffer.Length, Math.Max(0, limit - _kept));
                if (room < buffer.Length)
                {
                    // Past the cap: read from the engine and discarded, never buffered.
                    Truncated = true;
                    buffer = buffer[..room];
                }
            }

            _kept += buffer.Length;
            while (!buffer.IsEmpty)
            {
                var piece = buffer[..Math.Min(buffer.Length, ContainerExecOptions.FrameBytes)];
                await session._buffer.Writer.WriteAsync(new ContainerExecFrame(stream, piece.ToArray()), cancellationToken);
                buffer = buffer[piece.Length..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
