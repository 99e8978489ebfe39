using Berth.Hosting;
using Berth.Hosting.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Berth.Hosting.Tests;

/// <summary>The <c>autoscaling</c> object of a <c>containers[]</c> entry: read, validated and applied to the class's pool settings.</summary>
public sealed class AutoscalingConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Parse_SeedsAutoscalingObject_ReadsEveryField()
    {
        var config = BerthConfigFile.Parse("""
            { "name": "app", "containers": [ { "class_name": "GifMaker", "image": "busybox", "autoscaling": {
                "minimum_instances": 1, "cpu_target": 75, "target_concurrency": 4, "scale_down_delay": "45s",
                "max_queued_requests": 7, "queue_timeout": "1500ms" } } ] }
            """, _dir.Path);

        var autoscaling = config.Containers[0].Autoscaling!;
        Assert.Equal(1, autoscaling.MinimumInstances);
        Assert.Equal(75, autoscaling.CpuTarget);
        Assert.Equal(4, autoscaling.TargetConcurrency);
        Assert.Equal(TimeSpan.FromSeconds(45), autoscaling.ScaleDownDelay);
        Assert.Equal(7, autoscaling.MaxQueuedRequests);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), autoscaling.QueueTimeout);
    }

    [Theory]
    [InlineData("""{ "minimum_instances": -1 }""", "containers[0].autoscaling.minimum_instances: -1 is not allowed; allowed: an integer ≥ 0")]
    [InlineData("""{ "target_concurrency": 0 }""", "containers[0].autoscaling.target_concurrency: 0 is not allowed; allowed: an integer ≥ 1")]
    [InlineData("""{ "cpu_target": 0 }""", "containers[0].autoscaling.cpu_target: 0 is not allowed; allowed: a number of percent of one CPU core, 1–1000")]
    [InlineData("""{ "max_queued_requests": 0 }""", "containers[0].autoscaling.max_queued_requests: 0 is not allowed; allowed: an integer ≥ 1")]
    [InlineData("""{ "queue_timeout": "soon" }""", "containers[0].autoscaling.queue_timeout: 'soon' is not allowed; allowed: a duration greater than 0 such as '30s', '10m' or '1h30m' (units ms, s, m, h)")]
    [InlineData("""{ "minimum_instance": 1 }""", "containers[0].autoscaling.minimum_instance: unknown field")]
    public void Parse_BadAutoscalingValue_NamesFieldValueAndAllowed(string autoscaling, string expected)
    {
        var ex = Assert.Throws<BerthConfigException>(() => BerthConfigFile.Parse(
            $$"""{ "name": "app", "containers": [ { "class_name": "C", "image": "busybox", "autoscaling": {{autoscaling}} } ] }""", _dir.Path));

        Assert.StartsWith(expected, Assert.Single(ex.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void AddBerth_FileWithAutoscaling_OverridesCodeFieldByField()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "CodeConfigured", "image": "busybox:1", "autoscaling": { "minimum_instances": 2, "queue_timeout": "5s" } } ] }""");

        var pool = ClassOptions(o => (o.Pool.MinimumInstances, o.Pool.TargetConcurrency) = (1, 3)).Pool;

        Assert.Equal(2, pool.MinimumInstances);
        Assert.Equal(3, pool.TargetConcurrency);
        Assert.Equal(TimeSpan.FromSeconds(5), pool.QueueTimeout);
        Assert.Equal(Berth.Containers.Scaling.ContainerPoolOptions.DefaultMaxQueuedRequests, pool.MaxQueuedRequests);
    }

    [Fact]
    public void AddBerth_MinimumAboveMaxInstances_FailsValidationNamingBoth()
    {
        _dir.Write("berth.jsonc", """{ "name": "app", "containers": [ { "class_name": "CodeConfigured", "image": "busybox:1", "max_instances": 2, "autoscaling": { "minimum_instances": 3 } } ] }""");

        var ex = Assert.Throws<OptionsValidationException>(() => ClassOptions(null));

        Assert.Contains("containers[CodeConfigured].minimum_instances: '3' is not allowed; use 0 to max_instances (2).", ex.Failures);
    }

    private Berth.Containers.ContainerClassOptions ClassOptions(Action<Berth.Containers.ContainerClassOptions>? configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = _dir.Path, DisableDefaults = true });
        builder.AddBerth(berth => berth.UseConfigFile().AddContainer<CodeConfigured>(configure));
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptionsMonitor<Berth.Containers.ContainerClassOptions>>().Get(nameof(CodeConfigured));
    }
}
