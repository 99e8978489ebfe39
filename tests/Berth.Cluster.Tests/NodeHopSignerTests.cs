using Berth.Gateway;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cluster.Tests;

public sealed class NodeHopSignerTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("node-c", "/c/x/echo?a=1", "10.0.0.1", "https")] // sent to another node
    [InlineData("node-b", "/c/x/echo?a=2", "10.0.0.1", "https")] // another query
    [InlineData("node-b", "/c/x/echo", "10.0.0.1", "https")] // the query dropped
    [InlineData("node-b", "/c/x/echo?a=1", "10.6.6.6", "https")] // another client address
    [InlineData("node-b", "/c/x/echo?a=1", "10.0.0.1", "http")] // another scheme
    [InlineData("node-b", "/c/z1\\..\\..\\health?a=1", "10.0.0.1", "https")] // another raw path
    public void TryVerify_CapturedHeaderReplayedWithOtherFields_IsRejected(string destination, string target, string forwardedFor, string proto)
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var header = signer.Create("node-a", new HopFields("node-b", "GET", "/c/x/echo?a=1", "10.0.0.1", "https"));
        Assert.True(signer.TryVerify(header, new HopFields("node-b", "GET", "/c/x/echo?a=1", "10.0.0.1", "https"), out _));

        Assert.False(signer.TryVerify(header, new HopFields(destination, "GET", target, forwardedFor, proto), out _));
    }

    private static HopFields Fields(string method, string target) => new("node-b", method, target, null, null);

    [Fact]
    public void TryVerify_SignedJustNow_IsValidAndNamesTheSender()
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var header = signer.Create("node-a", Fields("POST", "/c/x/echo"));

        Assert.True(signer.TryVerify(header, Fields("POST", "/c/x/echo"), out var node));
        Assert.Equal("node-a", node);
    }

    [Fact]
    public void TryVerify_WithinTheWindowEitherWay_IsValid()
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var header = signer.Create("node-a", Fields("GET", "/p"));

        _clock.Advance(NodeHopSigner.Window);
        Assert.True(signer.TryVerify(header, Fields("GET", "/p"), out _));

        // A sender whose clock runs ahead by up to the window is accepted too.
        var receiver = new NodeHopSigner(Secret, new FakeTimeProvider(_clock.GetUtcNow() - NodeHopSigner.Window - NodeHopSigner.Window));
        Assert.True(receiver.TryVerify(header, Fields("GET", "/p"), out _));
    }

    [Fact]
    public void TryVerify_OlderThanTheWindow_IsRejected()
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var header = signer.Create("node-a", Fields("GET", "/p"));

        _clock.Advance(NodeHopSigner.Window + TimeSpan.FromMilliseconds(1));

        Assert.False(signer.TryVerify(header, Fields("GET", "/p"), out var node));
        Assert.Null(node);
    }

    [Fact]
    public void TryVerify_AnotherClustersSecret_IsRejected()
    {
        var header = new NodeHopSigner(Secret, _clock).Create("node-a", Fields("GET", "/p"));
        var other = new NodeHopSigner(Secret.Select(b => (byte)(b ^ 0x5a)).ToArray(), _clock);

        Assert.False(other.TryVerify(header, Fields("GET", "/p"), out _));
    }

    [Theory]
    [InlineData("GET", "/c/x/other")] // tampered path
    [InlineData("DELETE", "/c/x/echo")] // tampered method
    public void TryVerify_TamperedRequest_IsRejected(string method, string path)
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var header = signer.Create("node-a", Fields("GET", "/c/x/echo"));

        Assert.False(signer.TryVerify(header, Fields(method, path), out _));
    }

    [Fact]
    public void TryVerify_TamperedSenderOrTime_IsRejected()
    {
        var signer = new NodeHopSigner(Secret, _clock);
        var parts = signer.Create("node-a", Fields("GET", "/p")).Split(';');

        Assert.False(signer.TryVerify($"node-b;{parts[1]};{parts[2]}", Fields("GET", "/p"), out _));
        Assert.False(signer.TryVerify($"node-a;{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 1};{parts[2]}", Fields("GET", "/p"), out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("node-a")]
    [InlineData("node-a;notanumber;abc")]
    [InlineData(";1;abc")]
    [InlineData("node-a;-5;abc")]
    public void TryVerify_Malformed_IsRejected(string? header)
    {
        Assert.False(new NodeHopSigner(Secret, _clock).TryVerify(header, Fields("GET", "/p"), out _));
    }

    [Fact]
    public void Constructor_ShortSecret_Throws()
    {
        Assert.Throws<ArgumentException>(() => new NodeHopSigner(new byte[8], _clock));
    }
}
