using Berth.Runtime;

namespace Berth.Abstractions.Tests;

public sealed class ContainerSignalTests
{
    [Theory]
    [InlineData(ContainerSignal.SIGHUP, "SIGHUP", 1)]
    [InlineData(ContainerSignal.SIGINT, "SIGINT", 2)]
    [InlineData(ContainerSignal.SIGQUIT, "SIGQUIT", 3)]
    [InlineData(ContainerSignal.SIGKILL, "SIGKILL", 9)]
    [InlineData(ContainerSignal.SIGUSR1, "SIGUSR1", 10)]
    [InlineData(ContainerSignal.SIGUSR2, "SIGUSR2", 12)]
    [InlineData(ContainerSignal.SIGTERM, "SIGTERM", 15)]
    public void ToSignalName_EachSignal_IsTheEngineNameAndLinuxNumber(ContainerSignal signal, string name, int number)
    {
        Assert.Equal(name, signal.ToSignalName());
        Assert.Equal(number, (int)signal);
    }

    [Fact]
    public void ToSignalName_UndefinedValue_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ContainerSignal)99).ToSignalName());
}
