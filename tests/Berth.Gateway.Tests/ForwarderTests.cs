using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Yarp.ReverseProxy.Forwarder;

namespace Berth.Gateway.Tests;

/// <summary>The data plane's own rules, on the in-process rig (no Docker): fast, and each fails on the code before its fix.</summary>
public sealed class ForwarderTests
{
    private static async Task<(HttpStatusCode Status, string Error, string Message)> ErrorOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(text);
        return (response.StatusCode, body.RootElement.GetProperty("error").GetString()!, body.RootElement.GetProperty("message").GetString()!);
    }

    [Theory]
    [InlineData("X-Berth-Container-Port", "1")]
    [InlineData("X-Berth-Container-Port", "9000")]
    [InlineData("x-berth-container-port", "9000")]
    [InlineData("X-Berth-Object-Id", "other")]
    public async Task ClientSendsBerthHeader_Ignored_DefaultPortAndHeaderDropped(string name, string value)
    {
        await using var rig = await ForwarderRig.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/p/headers");
        request.Headers.TryAddWithoutValidation(name, value);

        using var response = await rig.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([0], rig.Object.RequestedPorts);
        Assert.DoesNotContain("x-berth-", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, rig.Object.AliveChecks);
    }

    [Fact]
    public async Task SwitchPort_InAppCode_ChoosesThePortThroughTheFeature()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var livePort = (await Berth.Containers.ContainerCalls.EnsureReadyAsync(rig.Object, 0)).Endpoint!.DefaultPort;
        rig.Object.RequestedPorts.Clear();

        using var response = await rig.Client.GetAsync($"/switch/{livePort}/headers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([livePort], rig.Object.RequestedPorts);
        Assert.DoesNotContain("x-berth-", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/p/a%2Fb", "/a%2Fb")]
    [InlineData("/p/a%2fb/c", "/a%2fb/c")]
    [InlineData("/p/a%20b", "/a%20b")]
    [InlineData("/p/%C3%A9t%C3%A9", "/%C3%A9t%C3%A9")]
    [InlineData("/p/a;b=c/d", "/a;b=c/d")]
    [InlineData("/p/x/../y%2Fz", "/y%2Fz")]
    [InlineData("/p/a%252Fb", "/a%252Fb")]
    [InlineData("/p/q%2F?x=%2F&y=a%20b", "/q%2F?x=%2F&y=a%20b")]
    [InlineData("/p/", "/")]
    [InlineData("/p", "/")]
    public async Task Path_WithPrefixStripped_ReachesContainerAsTheClientSentIt(string sent, string expected)
    {
        await using var rig = await ForwarderRig.StartAsync();

        using var response = await rig.Client.GetAsync(new Uri(sent, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, Assert.Single(rig.Probe.Targets));
    }

    [Fact]
    public async Task ContainerDeadBeforeRequest_Get_ServedByFreshContainer()
    {
        await using var rig = await ForwarderRig.StartAsync();
        rig.Object.DieBeforeNextRequest();

        using var response = await rig.Client.GetAsync("/p/headers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, rig.Object.AliveChecks);
        Assert.Equal(2, rig.Object.EnsureReadyCalls);
    }

    [Fact]
    public async Task ContainerDeadBeforeRequest_PostWithBody_ServedByFreshContainerWithWholeBody()
    {
        await using var rig = await ForwarderRig.StartAsync();
        rig.Object.DieBeforeNextRequest();
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);

        using var response = await rig.Client.PostAsync("/p/sink", new ByteArrayContent(payload));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("300000", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, rig.Object.AliveChecks);
    }

    [Fact]
    public async Task ClientBodyFails_NotTheContainersFault_NoLivenessCheck()
    {
        await using var rig = await ForwarderRig.StartAsync();
        using var content = new FailingContent();

        await Assert.ThrowsAnyAsync<Exception>(() => rig.Client.PostAsync("/p/sink", content));

        await Task.Delay(500);
        Assert.Equal(0, rig.Object.AliveChecks);
    }

    [Fact]
    public async Task BodyOverClassLimit_Answers413NamingTheClassLimit_RouteLimitStillWins()
    {
        await using var rig = await ForwarderRig.StartAsync();

        using var overClass = await rig.Client.PostAsync("/class-limited/sink", new ByteArrayContent(new byte[2000]));
        using var underRoute = await rig.Client.PostAsync("/class-and-route/sink", new ByteArrayContent(new byte[2000]));

        var (status, error, message) = await ErrorOfAsync(overClass);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(GatewayErrorCodes.BodyTooLarge, error);
        Assert.Contains("500 bytes", message);
        Assert.Equal(HttpStatusCode.OK, underRoute.StatusCode);
    }

    [Fact]
    public async Task DeclaredBodyOverRouteLimit_Answers413BodyTooLargeNamingTheLimit()
    {
        await using var rig = await ForwarderRig.StartAsync();

        using var response = await rig.Client.PostAsync("/small/sink", new ByteArrayContent(new byte[2000]));

        var (status, error, message) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(GatewayErrorCodes.BodyTooLarge, error);
        Assert.Contains("1000 bytes", message);
        Assert.Equal(0, rig.Probe.Received);
    }

    [Fact]
    public async Task ChunkedBodyOverRouteLimit_Answers413BodyTooLarge()
    {
        await using var rig = await ForwarderRig.StartAsync();
        using var content = new StreamContent(new MemoryStream(new byte[5000]));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/small/sink") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await rig.Client.SendAsync(request);

        var (status, error, message) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(GatewayErrorCodes.BodyTooLarge, error);
        Assert.Contains("1000 bytes", message);
    }

    [Fact]
    public async Task BodyOverKestrelsDefault_UnderGatewayDefault_IsForwarded()
    {
        await using var rig = await ForwarderRig.StartAsync();
        const int Size = 40_000_000;

        using var response = await rig.Client.PostAsync("/p/sink", new ByteArrayContent(new byte[Size]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Size.ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
        Assert.Equal(100L * 1024 * 1024, new GatewayOptions().MaxRequestBodySize);
    }

    [Fact]
    public async Task ObjectCallThrows_InDevelopment_AnswersJsonInternalErrorWithoutDetails()
    {
        await using var rig = await ForwarderRig.StartAsync();
        rig.Object.ThrowOnEnsure = new TimeoutException("secret detail from the object call");

        using var response = await rig.Client.GetAsync("/p/headers");

        var (status, error, message) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal(GatewayErrorCodes.InternalError, error);
        Assert.DoesNotContain("secret", message);
    }

    [Fact]
    public async Task AppEndpointThrows_AnswersJsonInternalError()
    {
        await using var rig = await ForwarderRig.StartAsync(environment: "Production");

        using var response = await rig.Client.GetAsync("/throws");

        var (status, error, message) = await ErrorOfAsync(response);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal(GatewayErrorCodes.InternalError, error);
        Assert.DoesNotContain("secret", message);
    }

    [Fact]
    public void ErrorCodes_EveryCodeTheGatewayAnswers_IsDocumented()
    {
        var doc = File.ReadAllText(Path.Combine(Berth.Testing.RepositoryRoot.Find(), "docs", "errors.md"));

        foreach (var code in GatewayErrorCodes.All)
        {
            Assert.Contains($"`{code}`", doc, StringComparison.Ordinal);
        }

        foreach (var error in Enum.GetValues<Berth.Containers.ContainerReadyError>().Where(e => e != Berth.Containers.ContainerReadyError.None))
        {
            Assert.Contains(GatewayErrorCodes.ForReadyError(error), GatewayErrorCodes.All);
        }

        foreach (var error in Enum.GetValues<ForwarderError>().Where(GatewayErrorCodes.IsDestinationError))
        {
            Assert.Contains(GatewayErrorCodes.ForUpstream(error), GatewayErrorCodes.All);
        }
    }

    /// <summary>Sends a little of the body, then fails as a client whose upload breaks.</summary>
    private sealed class FailingContent : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(new byte[100]);
            await stream.FlushAsync();
            await Task.Delay(200);
            throw new IOException("the client's upload broke");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
