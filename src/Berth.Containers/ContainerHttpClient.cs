using System.Net;
using Berth.Objects;

namespace Berth.Containers;

/// <summary>
/// The HTTP client objects use to talk to their containers (<see cref="IContainer.ContainerFetchAsync"/>,
/// ping checks) and the message invoker the gateway forwards with: one pooled handler per node.
/// </summary>
public sealed class ContainerHttpClient : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;

    /// <summary>Creates the client.</summary>
    public ContainerHttpClient()
    {
        _handler = CreateHandler();
        Invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
        _client = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// The connection settings for talking to containers, shared by this client and the gateway's forwarder: no proxy,
    /// redirects, cookies, decompression or trace headers; a short connect timeout.
    /// </summary>
    internal static SocketsHttpHandler CreateHandler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        // Containers sit on a local bridge: a connect that takes longer than this will not succeed.
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ActivityHeadersPropagator = null,
    };

    /// <summary>The invoker the gateway forwards requests with.</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>Sends a buffered request to <paramref name="destinationPrefix"/> and buffers the response.</summary>
    public async Task<FetchResponse> SendAsync(string destinationPrefix, FetchRequest request, CancellationToken cancellationToken)
    {
        var target = new Uri(request.Url, UriKind.RelativeOrAbsolute);
        var pathAndQuery = target.IsAbsoluteUri ? target.PathAndQuery : request.Url;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), destinationPrefix + pathAndQuery.TrimStart('/'));
        if (request.Body is { Length: > 0 } body)
        {
            message.Content = new ByteArrayContent(body);
        }

        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content ??= new ByteArrayContent([]);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await _client.SendAsync(message, cancellationToken);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers.Add(new(name, string.Join(", ", values)));
        }

        return new FetchResponse((int)response.StatusCode)
        {
            Headers = headers,
            Body = await response.Content.ReadAsByteArrayAsync(cancellationToken),
        };
    }

    /// <summary>Whether <paramref name="path"/> answers with a status below 500 within <paramref name="timeout"/> (measured on <paramref name="timeProvider"/>).</summary>
    public async Task<bool> PingAsync(string destinationPrefix, string path, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        try
        {
            using var limit = new CancellationTokenSource(timeout, timeProvider);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            using var response = await _client.GetAsync(destinationPrefix + path.TrimStart('/'), attempt.Token);
            return (int)response.StatusCode < 500;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _client.Dispose();
        Invoker.Dispose();
        _handler.Dispose();
    }
}
