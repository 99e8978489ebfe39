using System.Collections.Concurrent;
using Berth.Egress;
using Orleans.Concurrency;

namespace Berth.Containers;

/// <summary>
/// Answers one outbound HTTP request of the object's container: read <paramref name="request"/> (its body streams from
/// the container), write <paramref name="response"/> (it streams to the container). Runs inside the object, on its
/// turn-based scheduler: between awaits it has the object to itself; at its awaits the object's other calls may run
/// (like an <c>[AlwaysInterleave]</c> method), so a long handler never blocks them.
/// </summary>
/// <param name="request">The container's request.</param>
/// <param name="response">The answer to write.</param>
/// <param name="cancellationToken">Cancelled when the container stops, the object deactivates or the node stops.</param>
/// <returns>Completes when the answer is written; throwing before the answer started gives the container a 502 (<c>outbound_handler_failed</c>).</returns>
public delegate Task OutboundRequestHandler(OutboundRequest request, OutboundResponse response, CancellationToken cancellationToken);

/// <summary>Calls the egress proxy makes on a container object to run an outbound handler; not for users.</summary>
internal interface IContainerOutbound : IGrainWithStringKey
{
    /// <summary>
    /// Starts the handler of pending request <paramref name="exchangeId"/> (registered by the object's
    /// <see cref="ContainerOutboundHandler"/> in this process) as work the object owns, and returns at once; the proxy
    /// waits on the exchange's completion, not on this call. Interleaves, so a handler starts even while a long call
    /// (a fetch waiting on the container that is making this very request) holds the object.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such pending request in this activation.</exception>
    [AlwaysInterleave]
    Task BeginOutboundAsync(Guid exchangeId, CancellationToken cancellationToken = default);
}

/// <summary>One outbound request on its way from the proxy to the object's handler.</summary>
internal sealed class OutboundExchange(OutboundRequestHandler handler, OutboundRequest request, OutboundResponse response, CancellationToken proxyToken) : IDisposable
{
    private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(proxyToken);

    public Guid Id { get; } = Guid.NewGuid();

    public OutboundRequestHandler Handler { get; } = handler;

    public OutboundRequest Request { get; } = request;

    public OutboundResponse Response { get; } = response;

    public CancellationToken Token => _cancel.Token;

    /// <summary>Completes off the object's scheduler (continuations run asynchronously), so the proxy's side never runs on the object's turn.</summary>
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _cancel.Dispose();
}

/// <summary>
/// The <see cref="IOutboundHandler"/> of one started container: the class's handlers as they were when it started, and
/// the way into the object. The proxy calls it on its own threads; the handler itself runs in the object.
/// </summary>
internal sealed class ContainerOutboundHandler(
    OutboundRouteTable routes,
    IReadOnlyDictionary<string, OutboundRequestHandler> byPattern,
    OutboundRequestHandler? catchAll,
    IContainerOutbound self,
    ConcurrentDictionary<Guid, OutboundExchange> pending) : IOutboundHandler
{
    public OutboundRouteTable Routes { get; } = routes;

    public OutboundRoute Route(string host) => Routes.Route(host, out _);

    public async Task HandleAsync(OutboundRequest request, OutboundResponse response, CancellationToken cancellationToken)
    {
        var route = Routes.Route(request.Host, out var pattern);
        var handler = route switch
        {
            OutboundRoute.ByHost => byPattern[pattern!],
            OutboundRoute.CatchAll => catchAll!,
            _ => throw new InvalidOperationException($"No outbound handler answers '{request.Host}'."),
        };

        using var exchange = new OutboundExchange(handler, request, response, cancellationToken);
        pending[exchange.Id] = exchange;
        try
        {
            await self.BeginOutboundAsync(exchange.Id, cancellationToken);
        }
        catch
        {
            pending.TryRemove(exchange.Id, out _);
            throw;
        }

        await exchange.Done.Task;
    }
}
