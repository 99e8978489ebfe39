using System.Net;
using System.Text.Json;
using Berth.Containers;
using Berth.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ErrorTests(GatewayFixture fixture)
{
    private Task<BerthTestHost> StartAsync(Action<ContainerClassOptions>? configure = null, Action<Berth.Hosting.BerthBuilder>? more = null) =>
        BerthTestHost.StartAsync(
            berth =>
            {
                berth.Services.AddSingleton<HookLog>();
                berth.AddContainer<AppContainer>(o =>
                {
                    o.Image = fixture.Images.App;
                    configure?.Invoke(o);
                });
                berth.ConfigureContainers(o => o.PortReadyTimeout = TimeSpan.FromSeconds(2));
                more?.Invoke(berth);
            },
            app =>
            {
                app.MapContainer<AppContainer>("/c/{id}/{**rest}", ctx => (string)ctx.Request.RouteValues["id"]!, stripPrefix: true);
                app.MapGet("/port/{port:int}", (int port, HttpContext ctx, ContainerNamespace<AppContainer> ns) =>
                    ns.GetByName("ports").FetchAsync(ctx.Request.SwitchPort(port).HttpContext));
            });

    private static async Task<(HttpStatusCode Status, string Error, string Message)> ErrorOfAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.GetProperty("error").GetString()!, body.RootElement.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task ImageMissing_Answers500NamingTheImage()
    {
        await using var host = await StartAsync(o => o.Image = "berth-test/does-not-exist:1");

        var (status, error, message) = await ErrorOfAsync(await host.Client.GetAsync("/c/x/"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("image_not_found", error);
        Assert.Contains("berth-test/does-not-exist:1", message);
        Assert.IsType<ContainerStartException>(Assert.Single(host.Services.GetRequiredService<HookLog>().Errors));
    }

    [Fact]
    public async Task PortNeverOpens_Answers503AfterReadinessTimeout_AndCallsOnError()
    {
        await using var host = await StartAsync(o => o.EnvVars["NEVER_LISTEN"] = "1");

        var (status, error, message) = await ErrorOfAsync(await host.Client.GetAsync("/c/deaf/"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("port_timeout", error);
        Assert.Contains("port 8080", message);
        var failure = Assert.IsType<ContainerStartException>(Assert.Single(host.Services.GetRequiredService<HookLog>().Errors));
        Assert.Equal(ContainerReadyError.PortTimeout, failure.Error);
        Assert.Empty(await host.ContainersAsync());
    }

    [Fact]
    public async Task SwitchPort_ToAPortNobodyListensOn_WaitsForThatPort()
    {
        await using var host = await StartAsync();

        var (status, error, message) = await ErrorOfAsync(await host.Client.GetAsync("/port/9999"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("port_timeout", error);
        Assert.Contains("port 9999", message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ContainerExitsDuringStart_Answers502WithExitCode_OutputOnlyWhereAllowed(bool shown)
    {
        await using var host = await StartAsync(
            o =>
            {
                o.EnvVars["NEVER_LISTEN"] = "1";
                o.EnvVars["EXIT_AFTER_MS"] = "100";
                o.EnvVars["EXIT_CODE"] = "4";
            },
            berth => berth.Services.Configure<GatewayOptions>(o => o.ContainerOutputInErrors = shown));

        var (status, error, message) = await ErrorOfAsync(await host.Client.GetAsync("/c/early/"));

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("exited_during_start", error);
        Assert.Contains("code 4", message);
        // What the app printed reaches the client only where the host allows it.
        Assert.Equal(shown, message.Contains("never listening", StringComparison.Ordinal));
        Assert.Equal(!shown, message.EndsWith("Its last output is in the host's log.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ContainerCrashesMidRequest_Answers502_AndOthersKeepServing()
    {
        await using var host = await StartAsync();
        (await host.Client.GetAsync("/c/bystander/")).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/c/victim/")).EnsureSuccessStatusCode();
        var victimId = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>().IdFromName("victim").ToString();
        var victim = Assert.Single(await host.ContainersAsync(victimId));

        using var response = await host.Client.GetAsync("/c/victim/die");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        (await host.Client.GetAsync("/c/bystander/")).EnsureSuccessStatusCode();
        var objects = host.Services.GetRequiredService<ContainerNamespace<AppContainer>>();
        var crashed = await Eventually.ValueAsync(() => objects.GetByName("victim").Object.GetStateAsync(), s => s.State == ContainerObjectState.StoppedWithCode, "the crash to be recorded");
        Assert.Equal(victim.Id, crashed.ContainerId);
        (await host.Client.GetAsync("/c/victim/")).EnsureSuccessStatusCode();
        Assert.NotEqual(victim.Id, Assert.Single(await host.ContainersAsync(victimId)).Id);
    }

    [Fact]
    public async Task MaxInstances_Exceeded_Answers503WithClearMessage()
    {
        await using var host = await StartAsync(o => o.MaxInstances = 2);
        (await host.Client.GetAsync("/c/one/")).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/c/two/")).EnsureSuccessStatusCode();

        using var third = await host.Client.GetAsync("/c/three/");
        var (status, error, message) = await ErrorOfAsync(third);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("max_instances", error);
        Assert.Contains("max_instances of 2", message);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal(2, (await host.ContainersAsync()).Count);
    }

    [Fact]
    public async Task EngineDown_Answers503_AndRecoversWhenItReturns()
    {
        await using var relay = new EngineRelay();
        relay.Up();
        await using var host = await StartAsync(more: berth => berth.ConfigureDocker(o => o.Endpoint = relay.Endpoint));
        (await host.Client.GetAsync("/c/warm/")).EnsureSuccessStatusCode();

        relay.Down();
        var (status, error, _) = await ErrorOfAsync(await host.Client.GetAsync("/c/cold/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("engine_unavailable", error);

        relay.Up();
        (await host.Client.GetAsync("/c/cold/")).EnsureSuccessStatusCode();
        (await host.Client.GetAsync("/c/warm/")).EnsureSuccessStatusCode();
    }
}
