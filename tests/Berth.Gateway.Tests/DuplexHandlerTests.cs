using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Gateway.Tests;

/// <summary>
/// A hostile container answering a body request: the gateway's duplex HTTP/1.1 handler must refuse an endless
/// response head or endless interim answers instead of buffering them (found by attacking issue 9's fixes).
/// </summary>
public sealed class DuplexHandlerTests
{
    [Fact]
    public async Task Send_EndlessResponseHead_RefusedAsInvalidResponse()
    {
        var junk = Encoding.ASCII.GetBytes("X-Junk: " + new string('a', 2000) + "\r\n");
        await using var container = RawContainer.Start(async stream =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\n"u8.ToArray());
            while (true)
            {
                await stream.WriteAsync(junk);
            }
        });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => SendBodyRequestAsync(container.Port));

        Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
        Assert.Contains("longer than 65536 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_EndlessInterimAnswers_RefusedAsInvalidResponse()
    {
        await using var container = RawContainer.Start(async stream =>
        {
            while (true)
            {
                await stream.WriteAsync("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"u8.ToArray());
            }
        });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => SendBodyRequestAsync(container.Port));

        Assert.Equal(HttpRequestError.InvalidResponse, error.HttpRequestError);
        Assert.Contains("interim", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_WellFormedAnswer_ReturnsStatusAndBody()
    {
        await using var container = RawContainer.Start(async stream =>
        {
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok"u8.ToArray());
        });

        using var response = await SendBodyRequestAsync(container.Port);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("b", Assert.Single(response.Headers.GetValues("X-A")));
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> SendBodyRequestAsync(int port)
    {
        using var handler = new DuplexHttp1Handler(DuplexHttp1Handler.CreatePooledInvoker());
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/x") { Content = new StringContent("body") };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await invoker.SendAsync(request, timeout.Token);
    }

    /// <summary>A loopback TCP server that answers one connection with whatever the script writes.</summary>
    private sealed class RawContainer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _serving;

        private RawContainer(TcpListener listener, Func<NetworkStream, Task> script)
        {
            _listener = listener;
            _serving = Task.Run(async () =>
            {
                using var client = await listener.AcceptTcpClientAsync();
                try
                {
                    await script(client.GetStream());
                }
                catch (IOException)
                {
                    // The gateway hung up: what the test wants.
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static RawContainer Start(Func<NetworkStream, Task> script)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new RawContainer(listener, script);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await Task.WhenAny(_serving, Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }
}

public sealed class ReservedHeaderTests
{
    [Theory]
    [InlineData("X-Berth-Container-Port", true)]
    [InlineData("x-berth-anything", true)]
    [InlineData("X-Berth_Container-Port", true)]
    [InlineData("X_BERTH_CONTAINER_PORT", true)]
    [InlineData("X-Berthy", false)]
    [InlineData("X-Bert", false)]
    [InlineData("X-Forwarded-For", false)]
    public void IsReserved_HeaderName_DashOrUnderscoreAnyCase(string name, bool reserved) =>
        Assert.Equal(reserved, ContainerTransformer.IsReserved(name));
}
