using System.Net;
using System.Net.Http.Headers;
using Berth.Hosting.Tests.Support;

namespace Berth.Hosting.Tests.Dashboard;

/// <summary>The dashboard's routes on a real Kestrel listener: HEAD is answered like GET, without a body.</summary>
public sealed class DashboardEndpointTests : IAsyncLifetime, IDisposable
{
    private AdminTestHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await AdminTestHost.StartAsync(map: app => app.MapBerthDashboard());
        _client = new HttpClient { BaseAddress = _host.Address };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await File.ReadAllTextAsync(_host.TokenFile));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Theory]
    [InlineData("_berth/dashboard/")]
    [InlineData("_berth/dashboard/index.html")]
    [InlineData("_berth/admin/dashboard/app")]
    public async Task Head_DashboardRoute_SameStatusAndHeadersAsGetWithoutBody(string path)
    {
        using var get = await _client.GetAsync(path);
        using var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        if (path.StartsWith("_berth/dashboard/", StringComparison.Ordinal))
        {
            // A file's length is known up front: HEAD announces the length GET sends (the JSON is written chunked).
            Assert.Equal((await get.Content.ReadAsByteArrayAsync()).Length, head.Content.Headers.ContentLength ?? -1);
            Assert.Equal(get.Headers.GetValues("Content-Security-Policy"), head.Headers.GetValues("Content-Security-Policy"));
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        }
    }

    [Fact]
    public async Task Head_FileTheDashboardDoesNotHave_NotFound()
    {
        using var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "_berth/dashboard/no-such-file.js"));

        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }
}
