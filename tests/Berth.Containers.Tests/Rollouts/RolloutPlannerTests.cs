using Berth.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Containers.Tests.Rollouts;

/// <summary>The step arithmetic and the choice of containers, on a fake clock.</summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(10, 10, 1)]
    [InlineData(10, 5, 1)]
    [InlineData(10, 0, 0)]
    [InlineData(50, 3, 2)]
    [InlineData(100, 10, 10)]
    [InlineData(25, 50, 13)]
    public void TargetFor_StepOfTotal_CeilingOfShare(int step, int total, int expected) =>
        Assert.Equal(expected, RolloutPlanner.TargetFor(step, total));

    [Fact]
    public void Pick_TenOutdatedFirstStep_OldestOnly()
    {
        var outdated = Instances(10, TimeSpan.FromMinutes(1));

        var pick = RolloutPlanner.Pick(outdated, RolloutPlanner.TargetFor(10, 10), Start + TimeSpan.FromHours(1), TimeSpan.Zero);

        Assert.Equal(["o0"], pick.Now.Select(i => i.ObjectId));
    }

    [Fact]
    public void Pick_OldestYoungerThanActiveGrace_WaitsUntilItIsOldEnough()
    {
        var time = new FakeTimeProvider(Start);
        var outdated = Instances(3, TimeSpan.FromSeconds(10));
        var grace = TimeSpan.FromSeconds(60);

        time.Advance(TimeSpan.FromSeconds(15));
        var early = RolloutPlanner.Pick(outdated, 3, time.GetUtcNow(), grace);
        Assert.Empty(early.Now);
        Assert.Equal(TimeSpan.FromSeconds(45), early.Wait);

        time.Advance(early.Wait);
        var due = RolloutPlanner.Pick(outdated, 3, time.GetUtcNow(), grace);
        Assert.Equal(["o0"], due.Now.Select(i => i.ObjectId));

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(["o0", "o1", "o2"], RolloutPlanner.Pick(outdated, 3, time.GetUtcNow(), grace).Now.Select(i => i.ObjectId));
    }

    [Fact]
    public void Outdated_MixedVersionsAndUnlabelled_OnlyThoseNotOnTheirIdsVersionOldestFirst()
    {
        var traffic = new ClassTraffic("Web", 2, null, 0);
        var containers = new[]
        {
            Summary("new", "2", Start.AddMinutes(1)),
            Summary("old", "1", Start.AddMinutes(3)),
            Summary("legacy", "abc123", Start.AddMinutes(2)),
            Summary("stopped", "1", Start, EngineContainerState.Exited),
        };

        var outdated = RolloutPlanner.Outdated(containers, traffic);

        Assert.Equal(["legacy", "old"], outdated.Select(i => i.ObjectId));
        Assert.Null(outdated[0].Version);
    }

    [Fact]
    public void Outdated_TenPercentSplitOfTwoHundredIds_CloseToTenPercentAndSticky()
    {
        var split = new ClassTraffic("Web", 1, 2, 10);
        var ids = Enumerable.Range(0, 200).Select(i => $"object-{i}").ToList();
        var containers = ids.Select(id => Summary(id, "1", Start)).ToList();

        var toCandidate = RolloutPlanner.Outdated(containers, split);

        Assert.InRange(toCandidate.Count, 12, 28);
        Assert.All(toCandidate, i => Assert.Equal(2, split.VersionFor(i.ObjectId)));
        Assert.Equal(toCandidate.Select(i => i.ObjectId), RolloutPlanner.Outdated(containers, split).Select(i => i.ObjectId));
        var again = new ClassTraffic("Web", 1, 2, 10);
        Assert.All(ids, id => Assert.Equal(split.VersionFor(id), again.VersionFor(id)));
    }

    private static List<RolloutInstance> Instances(int count, TimeSpan apart) =>
        Enumerable.Range(0, count).Select(i => new RolloutInstance($"o{i}", $"c{i}", 1, Start + apart * i)).ToList();

    private static ContainerSummary Summary(string objectId, string version, DateTimeOffset created, EngineContainerState state = EngineContainerState.Running) =>
        new(objectId + "-id", objectId, "img", state,
            new Dictionary<string, string> { [BerthLabels.ObjectId] = objectId, [BerthLabels.Version] = version }, created);
}
