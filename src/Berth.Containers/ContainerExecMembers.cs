using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Containers;

// The exec members of Container: sessions that stream a command's output in bounded pulls (issue 9 case 7).
public abstract partial class Container
{
    private readonly ConcurrentDictionary<Guid, ContainerExecSession> _execs = new();
    private ContainerExecOptions? _execOptions;

    private ContainerExecOptions ExecOptions =>
        _execOptions ??= ServiceProvider.GetService<IOptions<ContainerExecOptions>>()?.Value ?? new ContainerExecOptions();

    /// <inheritdoc />
    public Task<Guid> StartExecAsync(ContainerExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command is not { Count: > 0 } || request.Command.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("command: required; allowed: a non-empty list of non-empty strings, such as [\"ls\", \"-l\"].", nameof(request));
        }

        var id = _currentContainerId ?? throw new InvalidOperationException($"Container object {Context.Id} has no running container to exec in.");
        var options = ExecOptions;
        if (_execs.Count >= options.MaxConcurrentExecs)
        {
            throw new InvalidOperationException(
                $"Container object {Context.Id} already runs {_execs.Count} execs, its most (ContainerExecOptions.MaxConcurrentExecs); wait for one to end.");
        }

        // The command is activity: the container is not put to sleep under it.
        var lease = _lease;
        lease?.Hold();
        var session = ContainerExecSession.Start(_exec, id, request, options, _time,
            ended => _execs.TryRemove(ended.Id, out _), lease is null ? null : () => { lease.Touch(); lease.Exit(); });
        _execs[session.Id] = session;
        return Task.FromResult(session.Id);
    }

    /// <inheritdoc />
    public Task<ContainerExecChunk> ReadExecAsync(Guid execId, CancellationToken cancellationToken = default) =>
        _execs.TryGetValue(execId, out var session)
            ? session.ReadAsync(cancellationToken)
            : throw new KeyNotFoundException($"Container object {Context.Id} has no exec session {execId}: it ended, was cancelled, or was abandoned (no pull for {ExecOptions.AbandonAfter.TotalSeconds:0.#} s).");

    /// <inheritdoc />
    public Task CancelExecAsync(Guid execId, CancellationToken cancellationToken = default)
    {
        if (_execs.TryGetValue(execId, out var session))
        {
            session.Cancel();
        }

        return Task.CompletedTask;
    }
}
