using System.Net;
using System.Security.Cryptography;

namespace Berth.Gateway.Tests;

/// <summary>Request and response bodies flow through the gateway both ways at once, each chunk passed on when it arrives.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task LargeBody_ContainerEchoesWhileReading_FlowsBothWaysToTheEnd()
    {
        await using var rig = await ForwarderRig.StartAsync();
        const int Size = 25 * 1024 * 1024;
        var payload = new byte[Size];
        new Random(42).NextBytes(payload);
        // A bound for a hang (the old gateway stalled here until its 100 s activity timeout), not a measurement.
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var content = new ChunkedContent(async (stream, ct) =>
        {
            for (var offset = 0; offset < Size; offset += 64 * 1024)
            {
                await stream.WriteAsync(payload.AsMemory(offset, Math.Min(64 * 1024, Size - offset)), ct);
            }
        }, hang.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/p/echo")
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await rig.DuplexClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, hang.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(hang.Token);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, hang.Token)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        Assert.Equal(Size, total);
        Assert.Equal(SHA256.HashData(payload), hash.GetHashAndReset());
    }

    [Fact]
    public async Task SmallChunks_EachReachesTheContainerBeforeTheNextIsSent()
    {
        await using var rig = await ForwarderRig.StartAsync();
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var chunk = new byte[100];
        using var content = new ChunkedContent(async (stream, ct) =>
        {
            for (var i = 1; i <= 5; i++)
            {
                await stream.WriteAsync(chunk, ct);
                await stream.FlushAsync(ct);
                var expected = i * chunk.Length;
                await Eventually.ValueAsync(() => Task.FromResult(rig.Probe.Received), r => r >= expected, $"chunk {i} to reach the container", TimeSpan.FromSeconds(10), cancellationToken: ct);
            }
        }, hang.Token);

        using var response = await rig.Client.PostAsync("/p/sink", content, hang.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("500", await response.Content.ReadAsStringAsync(hang.Token));
    }

    /// <summary>A request body of unknown length written by a callback, as a streaming client writes it.</summary>
    private sealed class ChunkedContent(Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => write(stream, cancellationToken);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct) => write(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
