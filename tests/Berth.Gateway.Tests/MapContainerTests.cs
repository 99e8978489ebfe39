using Microsoft.AspNetCore.Builder;

namespace Berth.Gateway.Tests;

public sealed class MapContainerTests
{
    [Fact]
    public async Task MapContainer_NameParameterNotInPattern_ThrowsNamingIt()
    {
        await using var app = WebApplication.CreateBuilder().Build();

        var error = Assert.Throws<ArgumentException>(() => app.MapContainer<AppContainer>("/sandbox/{id}/{**path}", "session"));

        Assert.Contains("'session'", error.Message);
    }

    [Fact]
    public async Task MapContainer_StripPrefixWithoutCatchAll_ThrowsExplaining()
    {
        await using var app = WebApplication.CreateBuilder().Build();

        var error = Assert.Throws<ArgumentException>(() => app.MapContainer<AppContainer>("/sandbox/{id}", "id", stripPrefix: true));

        Assert.Contains("catch-all", error.Message);
    }
}
