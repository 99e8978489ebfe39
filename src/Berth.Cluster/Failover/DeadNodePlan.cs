using Orleans.Runtime;

namespace Berth.Cluster.Failover;

/// <summary>Which dead silos' containers this node may hand over, from its membership view alone (the database is checked after).</summary>
internal static class DeadNodePlan
{
    /// <summary>
    /// The members that are <see cref="SiloStatus.Dead"/>, named by a valid node ID other than <paramref name="ownNodeId"/>
    /// (this node's earlier incarnations are its own reconciler's), whose node ID has no member in any other status (a node
    /// that came back, or is coming back, with the same data directory reconciles its own containers), and not in
    /// <paramref name="finished"/>.
    /// </summary>
    /// <param name="members">The cluster's members, dead ones included (Orleans keeps them in the table for a while).</param>
    /// <param name="ownNodeId">This node's ID.</param>
    /// <param name="finished">Dead silos this node already handled or ruled out.</param>
    public static IReadOnlyList<ClusterMember> ToHandOver(IEnumerable<ClusterMember> members, string ownNodeId, IReadOnlySet<SiloAddress> finished)
    {
        ArgumentNullException.ThrowIfNull(members);
        var all = members.ToList();
        var live = all.Where(m => m.Status != SiloStatus.Dead).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        return all
            .Where(m => m.Status == SiloStatus.Dead && !finished.Contains(m.SiloAddress) && BerthNames.IsValidNodeId(m.Name)
                && m.Name != ownNodeId && !live.Contains(m.Name))
            .OrderBy(m => m.SiloAddress.Generation)
            .ToList();
    }
}
