using System.Net;
using Berth.Cluster.Failover;
using Orleans.Runtime;

namespace Berth.Cluster.Tests;

public sealed class DeadNodePlanTests
{
    private const string Own = "own-node";

    private static ClusterMember Member(string name, SiloStatus status, int generation, int port = 11111) =>
        new(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation), status, name);

    [Fact]
    public void ToHandOver_DeadNodeWithoutLiveSilo_IsListed()
    {
        var dead = Member("dead-node", SiloStatus.Dead, 1);
        Assert.Equal([dead], DeadNodePlan.ToHandOver([Member(Own, SiloStatus.Active, 2, 11112), dead], Own, new HashSet<SiloAddress>()));
    }

    [Fact]
    public void ToHandOver_NodeIdLiveAgainUnderANewSilo_IsNotListed()
    {
        // A restarted node keeps its node ID (data directory) but joins as a new silo: its reconciler owns the containers.
        foreach (var status in new[] { SiloStatus.Joining, SiloStatus.Active, SiloStatus.ShuttingDown, SiloStatus.Created })
        {
            var members = new[] { Member("back", SiloStatus.Dead, 1), Member("back", status, 2, 11112) };
            Assert.Empty(DeadNodePlan.ToHandOver(members, Own, new HashSet<SiloAddress>()));
        }
    }

    [Fact]
    public void ToHandOver_OwnEarlierIncarnationOrFinishedOrNotANodeId_IsNotListed()
    {
        var finished = Member("done-node", SiloStatus.Dead, 1, 11113);
        var members = new[] { Member(Own, SiloStatus.Dead, 1), Member(Own, SiloStatus.Active, 2), finished, Member("Silo_1a2b", SiloStatus.Dead, 1, 11114) };
        Assert.Empty(DeadNodePlan.ToHandOver(members, Own, new HashSet<SiloAddress> { finished.SiloAddress }));
    }

    [Fact]
    public void ToHandOver_LiveNode_IsNotListed()
    {
        Assert.Empty(DeadNodePlan.ToHandOver([Member("other", SiloStatus.Active, 1)], Own, new HashSet<SiloAddress>()));
    }
}
