using Microsoft.Extensions.DependencyInjection;

namespace Berth.Objects;

/// <summary>
/// The base class of a durable object: an Orleans grain with one activation per id, turn-based execution,
/// its own SQLite storage and one durable alarm. Derive from it and implement your interface
/// (which derives from <see cref="IDurableObject"/>).
/// </summary>
/// <remarks>
/// Orleans' activation hooks are sealed here so that subclasses cannot skip the platform's work; override
/// <see cref="OnObjectActivateAsync"/> and <see cref="OnObjectDeactivateAsync"/> instead.
/// </remarks>
public abstract class DurableObject : Grain, IDurableObject, IAlarmReceiver, IIncomingGrainCallFilter
{
    private DurableObjectContext? _context;

    /// <summary>Gets the object's context: id, storage, alarm and lifecycle helpers.</summary>
    /// <exception cref="InvalidOperationException">Read before activation (in the constructor).</exception>
    protected DurableObjectContext Context =>
        _context ?? throw new InvalidOperationException("The durable object context is available from OnObjectActivateAsync on, not in the constructor.");

    /// <inheritdoc />
    public sealed override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var runtime = ServiceProvider.GetService<DurableObjectRuntime>()
            ?? throw new InvalidOperationException($"{GetType().Name} is a durable object, but the silo has no durable object support: call AddDurableObjects() on the silo builder.");
        _context = new DurableObjectContext(this, runtime, GrainContext.GrainId, GrainFactory);
        try
        {
            if (runtime.Replicator is { } replicator)
            {
                await _context.AttachReplicaAsync(replicator, cancellationToken);
            }

            _context.RestoreAlarm();
            await OnObjectActivateAsync(cancellationToken);
        }
        catch
        {
            // Orleans does not call OnDeactivateAsync for a failed activation: release the database here.
            await _context.CloseAsync(CancellationToken.None);
            throw;
        }
    }

    /// <inheritdoc />
    public sealed override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await OnObjectDeactivateAsync(reason, cancellationToken);
            await Context.DrainAsync(cancellationToken);
        }
        finally
        {
            await Context.CloseAsync(cancellationToken);
        }
    }

    /// <summary>Handles an HTTP request. The default answers 501 Not Implemented.</summary>
    public virtual Task<FetchResponse> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(FetchResponse.Text($"{GetType().Name} does not handle HTTP requests: override FetchAsync.", 501));

    /// <summary>Called when the object activates, before any request is delivered. The context and storage are ready.</summary>
    protected virtual Task OnObjectActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called when the object deactivates (idle, shutdown or failure); storage is still open.</summary>
    protected virtual Task OnObjectDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Called when the alarm fires. If it throws, the alarm is retried with exponential backoff up to
    /// <see cref="DurableObjectOptions.AlarmMaxRetries"/> times; <see cref="AlarmInvocation.RetryCount"/> tells which attempt this is.
    /// The alarm is cleared before the handler runs, so the handler may set the next one.
    /// </summary>
    protected virtual Task AlarmAsync(AlarmInvocation invocation, CancellationToken cancellationToken) => Task.CompletedTask;

    internal void DeactivateAfterFailure() => DeactivateOnIdle();

    Task IAlarmReceiver.DeliverAlarmAsync(CancellationToken cancellationToken) =>
        Context.DeliverAlarmAsync(AlarmAsync, cancellationToken);

    Task IIncomingGrainCallFilter.Invoke(IIncomingGrainCallContext context)
    {
        if (_context is { } objectContext && RequestContext.Get(DurableObjectNames.RequestContextKey) is string name)
        {
            objectContext.LearnName(name);
        }

        var gate = _context?.Gate;
        if (_context?.Replica is { } replica)
        {
            return InvokeGatedAsync(gate, replica, context);
        }

        return gate is null ? context.Invoke() : InvokeAfterAsync(gate, context);

        static async Task InvokeAfterAsync(Task gate, IIncomingGrainCallContext context)
        {
            await gate; // a call Orleans interleaves waits for BlockConcurrencyWhileAsync to finish
            await context.Invoke();
        }

        // Cluster storage's output gate: the result leaves only once every transaction committed so far is in the durable store;
        // if shipping fails, the call fails. A failed call still ships what it committed, but keeps its own exception.
        async Task InvokeGatedAsync(Task? gate, IObjectStorageReplica replica, IIncomingGrainCallContext context)
        {
            if (gate is not null)
            {
                await gate;
            }

            try
            {
                await context.Invoke();
            }
            catch
            {
                await replica.FlushAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
                DeactivateIfFenced(replica);
                throw;
            }

            try
            {
                await replica.FlushAsync(CancellationToken.None);
            }
            catch
            {
                DeactivateIfFenced(replica);
                throw;
            }
        }

        void DeactivateIfFenced(IObjectStorageReplica replica)
        {
            if (replica.IsFenced)
            {
                DeactivateOnIdle(); // a newer activation owns the storage: this one must not serve another call
            }
        }
    }
}
