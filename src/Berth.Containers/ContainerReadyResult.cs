namespace Berth.Containers;

/// <summary>
/// The answer to "make sure the container runs": an endpoint, or an error the gateway turns into
/// an HTTP status. A value, not an exception, because it is on the request path. <see cref="RetryAfter"/>: when a
/// request can be tried again (a crash loop's remaining backoff), the gateway's <c>Retry-After</c>; <see langword="null"/>
/// when the error does not say.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ContainerReadyResult(
    [property: Id(0)] ContainerEndpoint? Endpoint,
    [property: Id(1)] ContainerReadyError Error,
    [property: Id(2)] string? Message,
    [property: Id(3)] TimeSpan? RetryAfter = null)
{
    internal static ContainerReadyResult Ready(ContainerEndpoint endpoint) => new(endpoint, ContainerReadyError.None, null);

    /// <summary>The container runs; its ports were not waited for.</summary>
    internal static ContainerReadyResult Started { get; } = new(null, ContainerReadyError.None, null);

    internal static ContainerReadyResult Fail(ContainerReadyError error, string message, TimeSpan? retryAfter = null) => new(null, error, message, retryAfter);
}
