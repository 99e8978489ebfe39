using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cli.Tests;

/// <summary><c>berth usage</c> against a fake admin API: the query it sends, its table, its JSON, --app.</summary>
public sealed class CliUsageTests : IDisposable
{
    private const string Report = """
        { "app": "demo", "since": "2026-03-01T00:00:00+00:00", "until": "2026-03-04T12:00:00+00:00", "by": "object",
          "rows": [ { "class": "Sandbox", "object": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "object_name": "session-1", "hour": null,
                      "running_ms": 12340, "starts": 2, "memory_gib_s": 12.34, "disk_gb_s": 49.36, "cpu_vcpu_s": 1.5, "egress_bytes": 1000, "cost_usd": 0.0001 } ],
          "totals": { "running_ms": 12340, "starts": 2, "memory_gib_s": 12.34, "disk_gb_s": 49.36, "cpu_vcpu_s": 1.5, "egress_bytes": 1000, "cost_usd": 0.0001 },
          "included": { "memory_gib_s": 90000, "cpu_vcpu_s": 22500, "disk_gb_s": 720000, "egress_bytes": 1000000000000 },
          "billable_usd": 0.0 }
        """;

    private readonly StringWriter _out = new();
    private readonly StringWriter _err = new();
    private readonly TempDirectory _dir = new();
    private readonly Admin _admin = new(Report);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        _out.Dispose();
        _err.Dispose();
        _dir.Dispose();
        _admin.Dispose();
    }

    private Task<int> RunAsync(params string[] args) =>
        BerthCli.RunAsync(args, _out, _err, null, null,
            new CliEnvironment(name => name == "BERTH_ADMIN_TOKEN" ? "t" : null, _dir.Path, _time, null, _admin), CancellationToken.None);

    [Fact]
    public async Task Usage_ByObjectSince_SendsTheQueryAndPrintsRowsTotalsAndBillable()
    {
        Assert.Equal(ExitCodes.Success, await RunAsync("usage", "--by", "object", "--since", "2h", "--class", "Sandbox"));

        Assert.Equal("http://127.0.0.1:8787/_berth/admin/usage?by=object&since=2026-03-04T10%3A00%3A00.0000000Z&class=Sandbox", Assert.Single(_admin.Uris));
        var lines = _out.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Usage of demo from 2026-03-01 00:00 to 2026-03-04 12:00 UTC", lines[0], StringComparison.Ordinal);
        Assert.Contains("OBJECT", lines[1], StringComparison.Ordinal);
        Assert.Contains("session-1", lines[2], StringComparison.Ordinal);
        Assert.Contains("12.34s", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("TOTAL", lines[3], StringComparison.Ordinal);
        Assert.Equal("Billable beyond the monthly included usage: $0.000000", lines[4]);
    }

    [Fact]
    public async Task Usage_Json_PrintsTheHostsReport()
    {
        Assert.Equal(ExitCodes.Success, await RunAsync("usage", "--json"));

        Assert.Equal("http://127.0.0.1:8787/_berth/admin/usage?by=class", Assert.Single(_admin.Uris));
        Assert.Equal(Report.Trim(), _out.ToString().Trim());
    }

    [Fact]
    public async Task Usage_AppTheHostDoesNotServe_UsageErrorNamingBoth()
    {
        Assert.Equal(ExitCodes.Usage, await RunAsync("usage", "--app", "other"));

        Assert.Contains("'other'", _err.ToString(), StringComparison.Ordinal);
        Assert.Contains("'demo'", _err.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_UnknownGrouping_UsageErrorWithoutARequest()
    {
        Assert.NotEqual(ExitCodes.Success, await RunAsync("usage", "--by", "week"));

        Assert.Empty(_admin.Uris);
    }

    private sealed class Admin(string body) : HttpMessageHandler
    {
        public List<string> Uris { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Uris.Add(request.RequestUri!.AbsoluteUri);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }
}
