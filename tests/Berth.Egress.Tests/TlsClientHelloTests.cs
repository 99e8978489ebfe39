using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Berth.Egress.Tests;

public sealed class TlsClientHelloTests
{
    [Fact]
    public async Task TryReadServerName_RealSslStreamHello_FindsHost()
    {
        var hello = await CaptureRealHelloAsync("Allowed.Example.test");
        Assert.Equal(TlsParseStatus.Found, TlsClientHello.TryReadServerName(hello, out var name));
        Assert.Equal("allowed.example.test", name);
    }

    [Fact]
    public async Task TryReadServerName_EveryTruncation_NeedsMoreNeverThrows()
    {
        var hello = await CaptureRealHelloAsync("allowed.test");
        for (var length = 1; length < hello.Length; length++)
        {
            Assert.Equal(TlsParseStatus.NeedMore, TlsClientHello.TryReadServerName(hello.AsSpan(0, length), out _));
        }
    }

    [Fact]
    public void TryReadServerName_HelloSplitOverTwoRecords_FindsHost()
    {
        var body = HelloBody(SniExtension("split.test"));
        var handshake = Handshake(body);
        var first = handshake[..20];
        var second = handshake[20..];
        var data = Record(first).Concat(Record(second)).ToArray();
        Assert.Equal(TlsParseStatus.Found, TlsClientHello.TryReadServerName(data, out var name));
        Assert.Equal("split.test", name);
    }

    [Fact]
    public void TryReadServerName_NoExtensions_NoServerName() =>
        Assert.Equal(TlsParseStatus.NoServerName, TlsClientHello.TryReadServerName(Record(Handshake(HelloBody(null))), out _));

    [Fact]
    public void TryReadServerName_PlainHttp_NotTls() =>
        Assert.Equal(TlsParseStatus.NotTls, TlsClientHello.TryReadServerName("GET / HTTP/1.1\r\n"u8, out _));

    [Fact]
    public void TryReadServerName_HugeDeclaredHandshake_Invalid()
    {
        // Declares a 16 MiB handshake message: refused at once, nothing buffered for it.
        byte[] data = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff];
        Assert.Equal(TlsParseStatus.Invalid, TlsClientHello.TryReadServerName(data, out _));
    }

    [Fact]
    public void TryReadServerName_OversizedRecord_Invalid()
    {
        byte[] data = [0x16, 0x03, 0x01, 0xff, 0xff, 0x01];
        Assert.Equal(TlsParseStatus.Invalid, TlsClientHello.TryReadServerName(data, out _));
    }

    [Fact]
    public void TryReadServerName_ManySmallRecordsBeyondLimit_Invalid()
    {
        // A ClientHello that declares the largest allowed size, then never ends within the limit.
        var declared = new byte[] { 0x01, 0x00, 0x80, 0x00 }; // 32 KiB
        var data = new List<byte>(Record(declared));
        for (var i = 0; i < 40; i++)
        {
            data.AddRange(Record(new byte[1000]));
        }

        var status = TlsClientHello.TryReadServerName(data.ToArray(), out _);
        Assert.NotEqual(TlsParseStatus.Found, status);
        Assert.NotEqual(TlsParseStatus.NeedMore, status);
    }

    [Fact]
    public void TryReadServerName_ExtensionLengthBeyondEnd_Invalid()
    {
        var sni = SniExtension("x.test");
        BinaryPrimitives.WriteUInt16BigEndian(sni.AsSpan(2), 0xfff0);
        Assert.Equal(TlsParseStatus.Invalid, TlsClientHello.TryReadServerName(Record(Handshake(HelloBody(sni))), out _));
    }

    [Fact]
    public void TryReadServerName_TwoServerNameExtensions_Invalid()
    {
        var twice = SniExtension("a.test").Concat(SniExtension("b.test")).ToArray();
        Assert.Equal(TlsParseStatus.Invalid, TlsClientHello.TryReadServerName(Record(Handshake(HelloBody(twice))), out _));
    }

    [Theory]
    [InlineData("bad host.test")]
    [InlineData("evil.test\0.good.test")]
    [InlineData("")]
    public void TryReadServerName_NameThatIsNoHost_Invalid(string name) =>
        Assert.Equal(TlsParseStatus.Invalid, TlsClientHello.TryReadServerName(Record(Handshake(HelloBody(SniExtension(name)))), out _));

    [Fact]
    public void TryReadServerName_RandomGarbage_NeverThrowsNorFinds()
    {
        var random = new Random(12345);
        for (var i = 0; i < 5000; i++)
        {
            var data = new byte[random.Next(1, 600)];
            random.NextBytes(data);
            data[0] = 0x16;
            if (data.Length > 1)
            {
                data[1] = 0x03;
            }

            var status = TlsClientHello.TryReadServerName(data, out var name);
            Assert.True(status != TlsParseStatus.Found || name is { Length: > 0 });
        }
    }

    [Fact]
    public void TryReadServerName_MutatedValidHello_NeverThrows()
    {
        var valid = Record(Handshake(HelloBody(SniExtension("fuzz.test"))));
        var random = new Random(99);
        for (var i = 0; i < 5000; i++)
        {
            var data = (byte[])valid.Clone();
            data[random.Next(data.Length)] = (byte)random.Next(256);
            _ = TlsClientHello.TryReadServerName(data, out _);
        }
    }

    internal static byte[] Record(byte[] payload)
    {
        var record = new byte[5 + payload.Length];
        record[0] = 0x16;
        record[1] = 0x03;
        record[2] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(3), (ushort)payload.Length);
        payload.CopyTo(record, 5);
        return record;
    }

    internal static byte[] Handshake(byte[] body)
    {
        var message = new byte[4 + body.Length];
        message[0] = 0x01;
        message[1] = (byte)(body.Length >> 16);
        message[2] = (byte)(body.Length >> 8);
        message[3] = (byte)body.Length;
        body.CopyTo(message, 4);
        return message;
    }

    internal static byte[] HelloBody(byte[]? extensions)
    {
        var body = new List<byte> { 0x03, 0x03 };
        body.AddRange(new byte[32]);
        body.Add(0);                         // session id
        body.AddRange([0x00, 0x02, 0x13, 0x01]); // one cipher suite
        body.AddRange([0x01, 0x00]);         // null compression
        if (extensions is not null)
        {
            body.Add((byte)(extensions.Length >> 8));
            body.Add((byte)extensions.Length);
            body.AddRange(extensions);
        }

        return body.ToArray();
    }

    internal static byte[] SniExtension(string host)
    {
        var name = Encoding.Latin1.GetBytes(host);
        var ext = new List<byte> { 0x00, 0x00 };
        var listLength = 3 + name.Length;
        var extLength = 2 + listLength;
        ext.AddRange([(byte)(extLength >> 8), (byte)extLength, (byte)(listLength >> 8), (byte)listLength, 0x00, (byte)(name.Length >> 8), (byte)name.Length]);
        ext.AddRange(name);
        return ext.ToArray();
    }

    /// <summary>The first bytes a real SslStream client sends for <paramref name="host"/>.</summary>
    internal static async Task<byte[]> CaptureRealHelloAsync(string host)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        var ssl = new SslStream(client.GetStream(), false);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cts.Token);
        var stream = server.GetStream();
        var buffer = new byte[64 * 1024];
        var filled = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cts.Token);
            Assert.NotEqual(0, read);
            filled += read;
            if (TlsClientHello.TryReadServerName(buffer.AsSpan(0, filled), out _) != TlsParseStatus.NeedMore)
            {
                break;
            }
        }

        client.Close();
        try
        {
            await handshake;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
        }

        ssl.Dispose();
        return buffer[..filled];
    }
}
