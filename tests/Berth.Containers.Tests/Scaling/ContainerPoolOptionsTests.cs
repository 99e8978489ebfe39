using Berth.Containers.Scaling;

namespace Berth.Containers.Tests.Scaling;

public sealed class ContainerPoolOptionsTests
{
    [Fact]
    public void Validate_Defaults_NoProblems()
    {
        Assert.Empty(new ContainerPoolOptions().Validate("containers[C]", ContainerClassOptions.DefaultMaxInstances));
    }

    [Theory]
    [InlineData("minimum", "containers[C].minimum_instances: '21' is not allowed; use 0 to max_instances (20).")]
    [InlineData("target", "containers[C].target_concurrency: '0' is not allowed; use 1 or more.")]
    [InlineData("cpu", "containers[C].cpu_target: '0' is not allowed; use a number of percent of one CPU core above 0 and at most 1000, or leave it out.")]
    [InlineData("delay", "containers[C].scale_down_delay: '-00:00:01' is not allowed; use zero or a positive time span.")]
    [InlineData("stable", "containers[C].Pool.StableWindow: '00:00:06' is not allowed; use longer than the panic window (00:00:06).")]
    [InlineData("panic", "containers[C].Pool.PanicWindow: '00:00:00.5000000' is not allowed; use at least the tick interval (00:00:01).")]
    [InlineData("threshold", "containers[C].Pool.PanicThreshold: 'NaN' is not allowed; use a finite number of 1 or more.")]
    [InlineData("queued", "containers[C].max_queued_requests: '0' is not allowed; use 1 or more.")]
    [InlineData("timeout", "containers[C].queue_timeout: '00:00:00' is not allowed; use a positive time span.")]
    public void Validate_BadValue_NamesFieldValueAndWhatIsAllowed(string field, string expected)
    {
        var options = new ContainerPoolOptions();
        switch (field)
        {
            case "minimum": options.MinimumInstances = 21; break;
            case "target": options.TargetConcurrency = 0; break;
            case "cpu": options.CpuTarget = 0; break;
            case "delay": options.ScaleDownDelay = TimeSpan.FromSeconds(-1); break;
            case "stable": options.StableWindow = TimeSpan.FromSeconds(6); break;
            case "panic": options.PanicWindow = TimeSpan.FromMilliseconds(500); break;
            case "threshold": options.PanicThreshold = double.NaN; break;
            case "queued": options.MaxQueuedRequests = 0; break;
            case "timeout": options.QueueTimeout = TimeSpan.Zero; break;
        }

        Assert.Equal(expected, Assert.Single(options.Validate("containers[C]", 20)));
    }

    [Fact]
    public void ClassValidator_BadPoolSetting_FailsTheClass()
    {
        var options = new ContainerClassOptions { ClassName = "C", MaxInstances = 2 };
        options.Pool.MinimumInstances = 3;

        var result = new ContainerClassOptionsValidator().Validate("C", options);

        Assert.False(result.Succeeded);
        Assert.Contains("containers[C].minimum_instances: '3' is not allowed; use 0 to max_instances (2).", result.Failures!);
    }
}
