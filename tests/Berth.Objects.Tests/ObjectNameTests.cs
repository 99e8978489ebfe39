namespace Berth.Objects.Tests;

/// <summary>An object learns the name its id was made from (<see cref="DurableObjectContext.Name"/>) from a call made by name, and only its own.</summary>
[Collection(nameof(SharedSilo))]
public sealed class ObjectNameTests(SharedSilo shared)
{
    private TestSilo Silo => shared.Silo;

    [Fact]
    public async Task Name_CalledByName_KnowsItsName()
    {
        var name = "session-" + Guid.NewGuid().ToString("N");

        Assert.Equal(name, await Silo.Counters.GetByName(name).NameAsync());
    }

    [Fact]
    public async Task Name_LaterCalledById_StillKnowsItsName()
    {
        var name = "session-" + Guid.NewGuid().ToString("N");
        await Silo.Counters.GetByName(name).IncrementAsync(1);

        // An id parsed from its string form carries no name, and clears the one an earlier Get put in this flow.
        var byId = Silo.Counters.Get(Silo.Counters.IdFromString(Silo.Counters.IdFromName(name).ToString()));

        Assert.Equal(name, await byId.NameAsync());
    }

    [Fact]
    public async Task Name_UniqueId_Null()
    {
        Assert.Null(await Silo.Counters.Get(Silo.Counters.NewUniqueId()).NameAsync());
    }

    [Fact]
    public async Task Name_CarriedNameOfAnotherObject_Ignored()
    {
        var counter = Silo.Counters.Get(Silo.Counters.NewUniqueId());
        RequestContext.Set("berth.object-name", "impostor");
        try
        {
            Assert.Null(await counter.NameAsync());
        }
        finally
        {
            RequestContext.Remove("berth.object-name");
        }
    }
}
