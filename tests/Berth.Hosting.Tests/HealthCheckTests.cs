using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Hosting.Tests;

public sealed class HealthCheckTests
{
    private static readonly HealthCheckContext Context = new()
    {
        Registration = new HealthCheckRegistration("x", _ => null!, HealthStatus.Unhealthy, tags: null),
    };

    [Fact]
    public async Task EngineCheck_PingHangs_UnhealthyAtTheConfiguredTimeout()
    {
        var time = new FakeTimeProvider();
        var runtime = new FakeContainerRuntime { OnPing = ct => Task.Delay(Timeout.Infinite, ct) };
        var check = new EngineHealthCheck(runtime, Options.Create(new BerthHealthOptions { EngineTimeout = TimeSpan.FromSeconds(3) }), time);

        var result = check.CheckHealthAsync(Context);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(result.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var health = await result.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal("The container engine did not answer a ping within 3000 ms.", health.Description);
    }

    [Fact]
    public async Task EngineCheck_EngineDown_UnhealthyWithTheEnginesReason()
    {
        var runtime = new FakeContainerRuntime
        {
            OnPing = _ => throw new ContainerRuntimeException(ContainerRuntimeError.EngineUnavailable, "Cannot reach the Docker engine at unix:///nope.sock."),
        };
        var check = new EngineHealthCheck(runtime, Options.Create(new BerthHealthOptions()), TimeProvider.System);

        var health = await check.CheckHealthAsync(Context);

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal("Cannot reach the Docker engine at unix:///nope.sock.", health.Description);
    }

    [Fact]
    public async Task ImagesCheck_OneFailedOneReady_UnhealthyNamingTheClassAndReason()
    {
        var images = new ClassImageStatus();
        images.Pending("Api");
        images.Pending("Sandbox");
        images.Ready("Api");
        images.Failed("Sandbox", "the build failed at step 3/5");

        var health = await new ImagesHealthCheck(images, Config()).CheckHealthAsync(Context);

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Equal("No image for Sandbox: the build failed at step 3/5", health.Description);
    }

    [Fact]
    public async Task ImagesCheck_StillBuilding_Degraded()
    {
        var images = new ClassImageStatus();
        images.Pending("Api");
        images.Pending("Sandbox");
        images.Ready("Api");

        var health = await new ImagesHealthCheck(images, Config()).CheckHealthAsync(Context);

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("Images still being built: Sandbox.", health.Description);
    }

    [Fact]
    public async Task ImagesCheck_NotBegun_DegradedThenAllReady_Healthy()
    {
        var images = new ClassImageStatus();
        var check = new ImagesHealthCheck(images, Config());

        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(Context)).Status);
        images.Ready("Api");
        images.Ready("Sandbox");
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(Context)).Status);
    }

    [Fact]
    public async Task ImagesCheck_NoConfigFile_Healthy()
    {
        var health = await new ImagesHealthCheck(new ClassImageStatus()).CheckHealthAsync(Context);

        Assert.Equal(HealthStatus.Healthy, health.Status);
    }

    private static BerthAppConfig Config() => BerthConfigFile.Parse(
        """{ "name": "demo", "containers": [ { "class_name": "Sandbox", "image": "sandbox:1" }, { "class_name": "Api", "image": "api:1" } ] }""",
        Path.GetTempPath());
}
