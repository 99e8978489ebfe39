using Berth.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Docker.Tests;

/// <summary>Errors that need no container; these talk only to endpoints that do not exist.</summary>
public class EngineErrorTests
{
    [Theory]
    [InlineData("unix:///tmp/berth-test-no-such-docker.sock")]
    [InlineData("tcp://127.0.0.1:1")]
    public async Task Ping_UnreachableEndpoint_ThrowsEngineUnavailableNamingIt(string endpoint)
    {
        using var runtime = new DockerContainerRuntime(new DockerRuntimeOptions { Endpoint = endpoint, RequestTimeout = TimeSpan.FromSeconds(10) });

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() => runtime.PingAsync());

        Assert.Equal(ContainerRuntimeError.EngineUnavailable, error.Error);
        Assert.Contains(new Uri(endpoint).ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("dockerd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnreachableEndpoint_ThrowsEngineUnavailable()
    {
        using var runtime = new DockerContainerRuntime(new DockerRuntimeOptions { Endpoint = "unix:///tmp/berth-test-no-such-docker.sock" });

        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            runtime.CreateAsync(new ContainerSpec { Name = "berth-test-unreachable", Image = "berth-test/base:latest" }));

        Assert.Equal(ContainerRuntimeError.EngineUnavailable, error.Error);
    }

    [Theory]
    [InlineData("not a uri")]
    [InlineData("ftp://127.0.0.1/docker")]
    public void Constructor_InvalidEndpoint_ThrowsNamingTheOption(string endpoint)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new DockerContainerRuntime(new DockerRuntimeOptions { Endpoint = endpoint }));
        Assert.Contains("Docker:Endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDockerContainerRuntime_InvalidOptions_FailValidation()
    {
        using var services = new ServiceCollection()
            .AddDockerContainerRuntime(o => o.DefaultPidsLimit = 0)
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DockerRuntimeOptions>>().Value);
        Assert.Contains("DefaultPidsLimit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDockerContainerRuntime_Defaults_ResolvesOneRuntimeThatReachesTheEngine()
    {
        await using var services = new ServiceCollection()
            .AddDockerContainerRuntime()
            .BuildServiceProvider();

        var runtime = services.GetRequiredService<IContainerRuntime>();

        Assert.Same(services.GetRequiredService<DockerContainerRuntime>(), runtime);
        await runtime.PingAsync();
    }

    [Fact]
    public void DefaultEndpoint_WithoutDockerHost_IsTheLocalSocket()
    {
        var expected = Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : "unix:///var/run/docker.sock";
        Assert.Equal(expected, new DockerRuntimeOptions().Endpoint);
    }
}
