using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Berth.Containers;
using Berth.Gateway;
using Berth.Gateway.Http1;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Bench.Micro;

/// <summary>
/// One warm request forwarded to a loopback "container" and its answer written into the request's response, by each of
/// the gateway's two forwarders (<see cref="GatewayOptions.Forwarder"/>): Berth's HTTP/1.1 forwarder, and YARP's forwarder
/// with the gateway's pooled <c>SocketsHttpHandler</c> and <c>ContainerTransformer</c>. Kestrel is left out (the request
/// is a <see cref="DefaultHttpContext"/> whose body goes to <see cref="Stream.Null"/>), so the figures are the forwarding
/// alone: its CPU and every byte it allocates per request. The container answers a fixed 200 with a 5-byte body over one
/// kept-alive connection; <see cref="Forward_ContainerOnly"/> is that container's round trip with no forwarder (the same
/// request head from a plain socket), the floor under both.
/// MemoryDiagnoser counts every thread of the process: the container's and the benchmark's own allocate nothing per
/// request (the benchmark methods use pooled async builders, and the response is flushed per request as Kestrel does at
/// its end, so <see cref="DefaultHttpContext"/>'s pipe writer does not hoard a new buffer every few hundred requests),
/// so what <see cref="Forward_Http1"/> allocates is Berth's forwarder's own.
/// </summary>
[MemoryDiagnoser]
public class ForwardingBenchmarks : IDisposable
{
    private LoopbackContainer _container = null!;
    private Http1Forwarder _http1 = null!;
    private IHttpForwarder _yarp = null!;
    private HttpMessageInvoker _invoker = null!;
    private ForwarderRequestConfig _config = null!;
    private DefaultHttpContext _context = null!;
    private string _prefix = null!;
    private Socket _raw = null!;
    private byte[] _rawRequest = null!;
    private byte[] _rawAnswer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _container = LoopbackContainer.Start();
        _prefix = $"http://127.0.0.1:{_container.Port}/";
        _http1 = new Http1Forwarder(TimeProvider.System, new GatewayOptions());
        _yarp = new ServiceCollection().AddLogging().AddHttpForwarder().BuildServiceProvider().GetRequiredService<IHttpForwarder>();
        _invoker = DuplexHttp1Handler.CreatePooledInvoker();
        _config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100), Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        _context = RoutingBenchmarks.WarmGet();
        _context.Request.Headers.Accept = "*/*";
        _context.Request.Headers.UserAgent = "wrk";
        // Kestrel always knows the client's address: every forward writes X-Forwarded-For.
        _context.Connection.RemoteIpAddress = IPAddress.Loopback;
        _context.Features.Set<IHttpRequestBodyDetectionFeature>(new NoBody());

        // The head Berth's forwarder sends for this request, sent as is by Forward_ContainerOnly.
        var head = new byte[4096];
        var length = Http1Forwarder.WriteHead(_context, System.Text.Encoding.ASCII.GetBytes($"127.0.0.1:{_container.Port}"), ref head);
        _rawRequest = head[..length];
        _rawAnswer = new byte[LoopbackContainer.AnswerLength];
        _raw = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _raw.Connect(IPAddress.Loopback, _container.Port);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _http1.Dispose();
            _invoker.Dispose();
            _raw.Dispose();
            _container.Dispose();
        }
    }

    [Benchmark(Baseline = true)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> Forward_Yarp()
    {
        Reset();
        await _yarp.SendAsync(_context, _prefix, _invoker, _config, ContainerTransformer.Instance);
        await _context.Response.BodyWriter.FlushAsync();
        return _context.Response.StatusCode;
    }

    [Benchmark]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> Forward_Http1()
    {
        Reset();
        await _http1.SendAsync(_context, _prefix, "127.0.0.1", _container.Port, "bench", TimeSpan.FromSeconds(100));
        await _context.Response.BodyWriter.FlushAsync();
        return _context.Response.StatusCode;
    }

    /// <summary>The container's round trip alone: the forwarder's request head sent and the whole answer read on a plain socket.</summary>
    [Benchmark]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> Forward_ContainerOnly()
    {
        await _raw.SendAsync(_rawRequest.AsMemory(), SocketFlags.None);
        var read = 0;
        while (read < _rawAnswer.Length)
        {
            var got = await _raw.ReceiveAsync(_rawAnswer.AsMemory(read), SocketFlags.None);
            if (got == 0)
            {
                throw new IOException("The loopback container closed the connection.");
            }

            read += got;
        }

        return read;
    }

    private void Reset()
    {
        _context.Response.StatusCode = 200;
        _context.Response.Headers.Clear();
    }

    private sealed class NoBody : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => false;
    }

    /// <summary>Answers every request head on every connection with the same small response.</summary>
    private sealed class LoopbackContainer : IDisposable
    {
        private static readonly byte[] Answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nDate: Tue, 01 Dec 2026 04:00:00 GMT\r\nServer: Kestrel\r\n\r\nhello"u8.ToArray();
        private readonly Socket _listener;

        private LoopbackContainer(Socket listener) => _listener = listener;

        public static int AnswerLength => Answer.Length;

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public static LoopbackContainer Start()
        {
            var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(64);
            var container = new LoopbackContainer(listener);
            _ = container.AcceptAsync();
            return container;
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket connection;
                try
                {
                    connection = await _listener.AcceptAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = ServeAsync(connection);
            }
        }

        private static async Task ServeAsync(Socket connection)
        {
            using var _ = connection;
            connection.NoDelay = true;
            var buffer = new byte[16 * 1024];
            var filled = 0;
            try
            {
                while (true)
                {
                    var read = await connection.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                    int end;
                    while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                    {
                        await connection.SendAsync(Answer.AsMemory(), SocketFlags.None);
                        buffer.AsSpan(end + 4, filled - end - 4).CopyTo(buffer);
                        filled -= end + 4;
                    }
                }
            }
            catch (SocketException)
            {
                // The forwarder closed its connection.
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
