using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Containers.Tests;

public sealed class ContainerRuntimeRegistrationTests
{
    [Fact]
    public void AddBerthContainers_OneRuntimeRegistered_EveryNarrowInterfaceIsThatRuntime()
    {
        var runtime = new FakeContainerRuntime();
        using var services = new ServiceCollection()
            .AddSingleton<IContainerRuntime>(runtime)
            .AddBerthContainers()
            .BuildServiceProvider();

        Assert.Same(runtime, services.GetRequiredService<IContainerOperations>());
        Assert.Same(runtime, services.GetRequiredService<IContainerExecOperations>());
        Assert.Same(runtime, services.GetRequiredService<INetworkOperations>());
        Assert.Same(runtime, services.GetRequiredService<IImageOperations>());
    }

    [Fact]
    public void AddContainerRuntimeOperations_RuntimeRegisteredAfter_TheLastRuntimeServesThem()
    {
        var first = new FakeContainerRuntime();
        var last = new FakeContainerRuntime();
        using var services = new ServiceCollection()
            .AddSingleton<IContainerRuntime>(first)
            .AddContainerRuntimeOperations()
            .AddSingleton<IContainerRuntime>(last)
            .BuildServiceProvider();

        Assert.Same(last, services.GetRequiredService<IContainerOperations>());
        Assert.Same(last, services.GetRequiredService<IImageOperations>());
    }
}
