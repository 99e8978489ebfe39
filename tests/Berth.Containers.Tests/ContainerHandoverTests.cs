using Berth.Runtime;
using Berth.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Containers.Tests;

/// <summary>Which containers a hand-over (a node's reconciler, a survivor's clean-up of a dead node) may touch.</summary>
public sealed class ContainerHandoverTests
{
    [Fact]
    public async Task ListNode_TwoClustersShareEngineAppAndNodeId_OnlyThisClustersContainers()
    {
        // Found by the hostile review: a survivor of cluster X removed a live container of cluster Y on the same engine.
        var runtime = new FakeContainerRuntime();
        var ours = Labelled(runtime.AddContainer("shop", "Web", "a", nodeId: "shared1"), "x");
        Labelled(runtime.AddContainer("shop", "Web", "b", nodeId: "shared1"), "y");
        var handover = Handover(runtime, cluster: "x");

        var listed = await handover.ListNodeAsync("shared1", CancellationToken.None);

        Assert.Equal(ours.Id, Assert.Single(listed).Id);

        ContainerSummary Labelled(ContainerSummary container, string cluster)
        {
            var labelled = container with { Labels = new Dictionary<string, string>(container.Labels) { [BerthLabels.Cluster] = cluster } };
            runtime.Containers[runtime.Containers.IndexOf(container)] = labelled;
            return labelled;
        }
    }

    [Fact]
    public async Task ListNode_SingleNode_EveryContainerOfTheNode()
    {
        var runtime = new FakeContainerRuntime();
        runtime.AddContainer("shop", "Web", "a", nodeId: "n1");
        runtime.AddContainer("shop", "Web", "b", nodeId: "n1");
        runtime.AddContainer("shop", "Web", "c", nodeId: "n2");

        Assert.Equal(2, (await Handover(runtime, cluster: null).ListNodeAsync("n1", CancellationToken.None)).Count);
    }

    private static ContainerHandover Handover(FakeContainerRuntime runtime, string? cluster)
    {
        var options = new ContainerOptions { AppName = "shop", NodeId = "n1" };
        if (cluster is not null)
        {
            options.ExtraLabels[BerthLabels.Cluster] = cluster;
        }

        return new ContainerHandover(runtime, new ServiceCollection().BuildServiceProvider(), new ContainerClassRegistry(), Options.Create(options), NullLogger<ContainerHandover>.Instance);
    }
}
