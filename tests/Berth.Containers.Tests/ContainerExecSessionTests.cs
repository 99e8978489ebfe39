using System.Reflection;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests;

public sealed class ContainerExecSessionTests
{
    // A bound, not a speed: the command runs on the thread pool, which other tests of the assembly can keep busy for
    // seconds on a loaded 2-core CI machine (CI: 10 s ran out once).
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly ContainerExecRequest Streamed = new() { Command = ["cmd"], Capped = false };

    [Fact]
    public async Task Start_CallerDoesNotPull_CommandIsBackPressuredAtTheBuffer()
    {
        var options = new ContainerExecOptions { BufferBytes = 4 * ContainerExecOptions.FrameBytes };
        var written = 0L;
        var runtime = ExecRuntime.Create(async (streams, ct) =>
        {
            var frame = new byte[ContainerExecOptions.FrameBytes];
            for (var i = 0; i < 100; i++)
            {
                await streams.Stdout!.WriteAsync(frame, ct);
                Interlocked.Add(ref written, frame.Length);
            }

            return 0;
        });

        using var session = ContainerExecSession.Start(runtime, "c1", Streamed, options, TimeProvider.System, _ => { }, null);
        await WaitUntilAsync(() => Interlocked.Read(ref written) >= options.BufferBytes);
        await Task.Delay(300);

        // Four frames fill the buffer; the fifth write waits for a pull.
        Assert.Equal(options.BufferBytes, Interlocked.Read(ref written));
        long received = 0;
        while (true)
        {
            var chunk = await session.ReadAsync(CancellationToken.None);
            received += chunk.Frames.Sum(f => f.Data.Length);
            if (chunk.Completed)
            {
                Assert.Equal(0, chunk.ExitCode);
                break;
            }
        }

        Assert.Equal(100L * ContainerExecOptions.FrameBytes, received);
    }

    [Fact]
    public async Task Start_CappedOutputPastTheCap_KeepsTheCapDrainsTheRestAndSaysTruncated()
    {
        var options = new ContainerExecOptions { MaxOutputBytes = 1000 };
        var runtime = ExecRuntime.Create(async (streams, ct) =>
        {
            for (var i = 0; i < 300; i++)
            {
                await streams.Stdout!.WriteAsync(new byte[10_000], ct);
            }

            await streams.Stderr!.WriteAsync(new byte[] { 0xff, 0x00 }, ct);
            return 7;
        });

        using var session = ContainerExecSession.Start(runtime, "c1", new ContainerExecRequest { Command = ["cmd"] }, options, TimeProvider.System, _ => { }, null);
        var frames = new List<ContainerExecFrame>();
        ContainerExecChunk chunk;
        do
        {
            chunk = await session.ReadAsync(CancellationToken.None);
            frames.AddRange(chunk.Frames);
        }
        while (!chunk.Completed);

        Assert.Equal(7, chunk.ExitCode);
        Assert.True(chunk.StdoutTruncated);
        Assert.False(chunk.StderrTruncated);
        Assert.Equal(1000, frames.Where(f => f.Stream == ContainerExecStream.Stdout).Sum(f => f.Data.Length));
        Assert.Equal(new byte[] { 0xff, 0x00 }, Assert.Single(frames, f => f.Stream == ContainerExecStream.Stderr).Data);
    }

    [Fact]
    public async Task Start_NoPullForAbandonAfter_CancelsTheCommandAndEndsTheSession()
    {
        var time = new FakeTimeProvider();
        var options = new ContainerExecOptions { AbandonAfter = TimeSpan.FromSeconds(30) };
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runtime = ExecRuntime.Create(async (_, ct) =>
        {
            await using (ct.Register(() => cancelled.TrySetResult()))
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return 0;
        });
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var session = ContainerExecSession.Start(runtime, "c1", Streamed, options, time, _ => ended.TrySetResult(), null);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(cancelled.Task.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(15));

        await cancelled.Task.WaitAsync(Bound);
        await ended.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task Start_CommandPastTheTimeout_ReadThrowsTimeout()
    {
        var time = new FakeTimeProvider();
        var options = new ContainerExecOptions { Timeout = TimeSpan.FromMinutes(1), AbandonAfter = TimeSpan.FromHours(1) };
        var runtime = ExecRuntime.Create(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });

        using var session = ContainerExecSession.Start(runtime, "c1", Streamed, options, time, _ => { }, null);
        time.Advance(TimeSpan.FromMinutes(1));
        await session.Completion.WaitAsync(Bound);

        await Assert.ThrowsAsync<TimeoutException>(() => session.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public void Validate_PollWaitNotBelowAbandonAfter_Fails()
    {
        var result = new ContainerExecOptionsValidator().Validate(null,
            new ContainerExecOptions { PollWait = TimeSpan.FromSeconds(10), AbandonAfter = TimeSpan.FromSeconds(10), MaxOutputBytes = 0 });

        Assert.True(result.Failed);
        Assert.Contains("AbandonAfter", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxOutputBytes: 0 is not allowed", result.FailureMessage, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    /// <summary>An <see cref="IContainerRuntime"/> whose only member is an exec that runs the given delegate.</summary>
    public class ExecRuntime : DispatchProxy
    {
        private Func<ExecStreams, CancellationToken, Task<int>> _exec = null!;

        public static IContainerRuntime Create(Func<ExecStreams, CancellationToken, Task<int>> exec)
        {
            var runtime = DispatchProxy.Create<IContainerRuntime, ExecRuntime>();
            ((ExecRuntime)(object)runtime)._exec = exec;
            return runtime;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IContainerRuntime.ExecAsync)
                ? _exec((ExecStreams)args![2]!, (CancellationToken)args[3]!)
                : throw new NotSupportedException(targetMethod?.Name);
    }
}
