namespace Berth.Egress;

/// <summary>How <see cref="IOutboundHandler.Route"/> answers for one host.</summary>
public enum OutboundRoute
{
    /// <summary>No handler: the container's egress policy decides, as for any host.</summary>
    None,

    /// <summary>A handler named for this host (an exact name or a glob): plain HTTP to it is answered by the object; TLS to it is refused.</summary>
    ByHost,

    /// <summary>The catch-all handler: plain HTTP to it is answered by the object; TLS to it follows the egress policy.</summary>
    CatchAll,
}

/// <summary>
/// The object side of a container's outbound handlers (<c>OutboundByHost</c> and the catch-all <c>Outbound</c> of a
/// container class): set as <see cref="EgressClient.Outbound"/>, it answers the container's plain-HTTP requests to the
/// hosts it routes, before the egress policy is consulted. The proxy reads the request head, frames the request body
/// (<c>Content-Length</c> or chunked) into <see cref="OutboundRequest.Body"/>, and writes what the handler puts into
/// <see cref="OutboundResponse"/> back to the container, streaming both ways.
/// </summary>
public interface IOutboundHandler
{
    /// <summary>Whether, and by which handler, requests to <paramref name="host"/> are answered. Called on the proxy's threads: must be thread-safe and fast.</summary>
    /// <param name="host">The host the container asked for: lowercase, without port (Host header, absolute target, CONNECT host or SNI).</param>
    OutboundRoute Route(string host);

    /// <summary>
    /// Answers one request. Throwing before the response started makes the proxy answer <c>502</c>
    /// (<see cref="OutboundErrorCodes.HandlerFailed"/>); throwing after it aborts the connection.
    /// </summary>
    /// <param name="request">The container's request; its body streams from the container.</param>
    /// <param name="response">Where the answer goes; it streams to the container.</param>
    /// <param name="cancellationToken">Cancelled when the node stops.</param>
    Task HandleAsync(OutboundRequest request, OutboundResponse response, CancellationToken cancellationToken);
}
