namespace Berth.Containers.Tests;

/// <summary>
/// The OCI runtime, limits and port publishing of the spec a container object starts with: the config's runtime beats
/// the class's, which beats the node's; anything but runc/runsc is refused with the allowed values named.
/// </summary>
public sealed class ContainerRuntimeChoiceTests
{
    [Theory]
    [InlineData("runsc", "runc", "runc", "runsc")]
    [InlineData(null, "runsc", "runc", "runsc")]
    [InlineData(null, null, "runsc", "runsc")]
    [InlineData(null, null, null, null)]
    public void Create_RuntimeSetAtSomeLevels_ConfigThenClassThenNodeWins(string? config, string? code, string? node, string? expected)
    {
        var spec = Create(new ContainerClassOptions { Runtime = config }, code, new ContainerOptions { NodeId = "n1", Runtime = node });

        Assert.Equal(expected, spec.Runtime);
    }

    [Fact]
    public void Create_Defaults_PublishesNoPortAndTakesTheInstanceTypesProcessLimit()
    {
        var spec = Create(new ContainerClassOptions { InstanceType = InstanceType.Standard2 }, null, new ContainerOptions { NodeId = "n1" });

        Assert.False(spec.PublishPorts);
        Assert.Equal([8080], spec.Ports);
        Assert.Equal(InstanceType.Standard2.PidsLimit, spec.PidsLimit);
        Assert.Equal(2048, spec.PidsLimit);
    }

    [Fact]
    public void Create_ClassAsksToPublish_PublishesItsPorts()
    {
        var spec = Create(new ContainerClassOptions { PublishPorts = true }, null, new ContainerOptions { NodeId = "n1" });

        Assert.True(spec.PublishPorts);
    }

    [Theory]
    [InlineData("kata")]
    [InlineData("RUNSC")]
    [InlineData("")]
    public void Validate_ClassRuntimeNotAllowed_NamesFieldValueAndAllowedValues(string runtime)
    {
        var result = new ContainerClassOptionsValidator().Validate("Sandbox", new ContainerClassOptions { ClassName = "Sandbox", Runtime = runtime });

        Assert.Equal(
            $"containers[Sandbox].runtime: '{runtime}' is not allowed; use one of: \"runc\", \"runsc\", or leave it out for the default.",
            Assert.Single(result.Failures!));
    }

    [Fact]
    public void Validate_NodeRuntimeNotAllowed_NamesTheSetting()
    {
        var result = new ContainerOptionsValidator().Validate(null, new ContainerOptions { NodeId = "n1", Runtime = "kata" });

        Assert.Contains("Berth:Containers:Runtime: 'kata' is not allowed; use one of: \"runc\", \"runsc\"", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(InstanceType.Lite), 512, 4096)]
    [InlineData(nameof(InstanceType.Basic), 512, 4096)]
    [InlineData(nameof(InstanceType.Standard1), 1024, 8192)]
    [InlineData(nameof(InstanceType.Standard4), 8192, 16384)]
    public void InstanceType_Limits_GrowWithVcpusAndStayBelowTheCaps(string name, long pids, long openFiles)
    {
        var type = (InstanceType)typeof(InstanceType).GetProperty(name)!.GetValue(null)!;

        Assert.Equal(pids, type.PidsLimit);
        Assert.Equal(openFiles, type.OpenFilesLimit);
    }

    private static Berth.Runtime.ContainerSpec Create(ContainerClassOptions classOptions, string? classRuntime, ContainerOptions node) =>
        ContainerSpecFactory.Create(node, classOptions, new ContainerSpecInput(
            "Sandbox", "obj1", "img:1", "berth-app", 8080, [8080], InstanceType.Lite, new Dictionary<string, string>(), null, null, classRuntime));
}
