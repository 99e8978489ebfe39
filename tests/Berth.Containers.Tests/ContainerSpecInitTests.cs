namespace Berth.Containers.Tests;

/// <summary>Which init choice reaches the engine's spec: the class options' (the config's) over the class's own, off by default.</summary>
public sealed class ContainerSpecInitTests
{
    private static ContainerSpecInput Input(bool classInit) =>
        new("Web", new string('a', 64), "img:1", "net", 8080, [8080], InstanceType.Lite, [], null, null, Init: classInit);

    [Theory]
    [InlineData(null, false, false)]
    [InlineData(null, true, true)]
    [InlineData(true, false, true)]
    [InlineData(false, true, false)]
    public void Create_InitFromOptionsElseClass_InSpec(bool? optionsInit, bool classInit, bool expected)
    {
        var spec = ContainerSpecFactory.Create(new ContainerOptions { NodeId = "n1" }, new ContainerClassOptions { ClassName = "Web", Init = optionsInit }, Input(classInit));

        Assert.Equal(expected, spec.Init);
    }
}
