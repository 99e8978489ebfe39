namespace Berth.Objects.Tests;

[Collection(nameof(SharedSilo))]
public sealed class AddressingAndRpcTests(SharedSilo shared)
{
    private TestSilo Silo => shared.Silo;

    [Fact]
    public async Task GetByName_SameName_ReachesSameObject()
    {
        var name = Guid.NewGuid().ToString();

        await Silo.Counters.GetByName(name).IncrementAsync(2);
        var second = await Silo.Counters.Get(Silo.Counters.IdFromName(name)).IncrementAsync(3);

        Assert.Equal(5, second);
        Assert.Equal(Silo.Counters.IdFromName(name), Silo.Counters.IdFromName(name));
        Assert.NotEqual(Silo.Counters.IdFromName(name), Silo.Counters.IdFromName(name + "x"));
    }

    [Fact]
    public async Task FirstCalls_Concurrent_CreateOneActivation()
    {
        var counter = Silo.Counters.GetByName(Guid.NewGuid().ToString());

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => counter.IncrementAsync(1))));

        Assert.Equal(Enumerable.Range(1, 50), results.Order());
        Assert.Equal(1, await counter.ActivationCountAsync());
    }

    [Fact]
    public async Task IdFromName_SameNameInOtherNamespace_GivesOtherObjectAndClass()
    {
        var name = Guid.NewGuid().ToString();

        var counter = await Silo.Counters.GetByName(name).WhoAmIAsync();
        var other = await Silo.Others.GetByName(name).WhoAmIAsync();

        Assert.Equal($"Counter:COUNTER:{Silo.Counters.IdFromName(name)}", counter);
        Assert.Equal($"OtherCounter:OTHER:{Silo.Others.IdFromName(name)}", other);
        Assert.NotEqual(Silo.Counters.IdFromName(name), Silo.Others.IdFromName(name));
    }

    [Fact]
    public async Task IdFromString_RoundTrip_ReachesSameObject()
    {
        var id = Silo.Counters.NewUniqueId();
        await Silo.Counters.Get(id).IncrementAsync(7);

        var parsed = Silo.Counters.IdFromString(id.ToString());

        Assert.Equal(id, parsed);
        Assert.Equal(7, await Silo.Counters.Get(parsed).GetAsync());
        Assert.Matches("^[0-9a-f]{64}$", id.ToString());
        Assert.NotEqual(id, Silo.Counters.NewUniqueId());
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-id")]
    [InlineData("ABCDEF0000000000000000000000000000000000000000000000000000000000")]
    public void IdFromString_BadInput_ThrowsClearError(string input)
    {
        var error = Assert.Throws<ArgumentException>(() => Silo.Counters.IdFromString(input));

        Assert.Contains("64 lowercase hex", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdFromString_IdOfOtherNamespace_Throws()
    {
        var foreign = Silo.Others.NewUniqueId().ToString();

        var error = Assert.Throws<ArgumentException>(() => Silo.Counters.IdFromString(foreign));

        Assert.Contains("COUNTER", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Silo.Counters.Get(Silo.Others.NewUniqueId()));
    }

    [Fact]
    public void DurableObjectId_ParseAndName_BehaveAsValue()
    {
        var named = Silo.Counters.IdFromName("alice");
        var parsed = DurableObjectId.Parse(named.ToString(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("alice", named.Name);
        Assert.Null(parsed.Name);
        Assert.Equal(named, parsed);
        Assert.Equal(named.GetHashCode(), parsed.GetHashCode());
        Assert.False(DurableObjectId.TryParse("xyz", out _));
        Assert.Throws<FormatException>(() => DurableObjectId.Parse("xyz", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Rpc_ObjectThrowsBuiltInException_CallerGetsTypeAndMessage()
    {
        var counter = Silo.Counters.GetByName(Guid.NewGuid().ToString());

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => counter.IncrementAsync(-1));

        Assert.Equal("by", error.ParamName);
        Assert.StartsWith("by must be positive", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await counter.GetAsync()); // the object survives its exception
    }

    [Fact]
    public async Task Rpc_ObjectThrowsCustomException_CallerGetsTypeAndMessage()
    {
        var counter = Silo.Counters.GetByName(Guid.NewGuid().ToString());
        await counter.IncrementAsync(1000);

        var error = await Assert.ThrowsAsync<CounterLimitException>(() => counter.IncrementAsync(1));

        Assert.Contains("would pass 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fetch_NotOverridden_Returns501()
    {
        var response = await Silo.Counters.GetByName("fetch").FetchAsync(new FetchRequest("GET", "/"));

        Assert.Equal(501, response.Status);
    }

    [Fact]
    public async Task InterleavingCall_DuringBlockConcurrencyWhile_WaitsForBlockToEnd()
    {
        var id = Silo.Counters.NewUniqueId();
        var counter = Silo.Counters.Get(id);
        var waiting = counter.WaitForReleaseAsync();
        Assert.Equal("pong", await counter.PingAsync()); // [AlwaysInterleave] normally passes a waiting request
        Silo.Probe.Release(id.ToString()).SetResult();
        await waiting;
        Silo.Probe.Releases.TryRemove(id.ToString(), out _);

        var blocking = counter.BlockUntilReleasedAsync();
        await Silo.Probe.Release("blocking:" + id).Task;
        var ping = counter.PingAsync();
        var finished = await Task.WhenAny(ping, Task.Delay(300)); // nothing may happen in this window

        Assert.NotSame(ping, finished);
        Silo.Probe.Release(id.ToString()).SetResult();
        await blocking;
        Assert.Equal("pong", await ping);
    }
}
