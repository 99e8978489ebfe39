using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Cli.Tests;

/// <summary>
/// <c>.berth/dev.json</c> is trusted only when this user wrote it for a running <c>berth dev</c>: one planted by someone
/// else (in <c>/tmp</c> above a project, say) must not get the admin token sent to its host, nor hang berth.
/// </summary>
[UnsupportedOSPlatform("windows")] // Owner, mode, FIFOs and /proc: what is checked on Linux.
public sealed class DevStateTrustTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly List<string> _ignored = [];

    public void Dispose() => _dir.Dispose();

    private static bool IsTestProcess(int processId) => processId == Environment.ProcessId;

    private string Planted => DevState.PathFor(_dir.Path);

    private static string Json(string host = "http://127.0.0.1:47111/", int? processId = null) =>
        $$"""{"host":"{{host}}","dataDirectory":"/victim/data","processId":{{processId ?? Environment.ProcessId}},"startedAt":"2026-03-04T12:00:00Z"}""";

    private async Task PlantAsync(string json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Planted)!);
        await File.WriteAllTextAsync(Planted, json);
        File.SetUnixFileMode(Planted, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private DevState? Find(string? directory = null) => DevState.Find(directory ?? _dir.Path, IsTestProcess, _ignored.Add);

    private static async Task RunToolAsync(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args) { UseShellExecute = false })!;
        await process.WaitForExitAsync().WaitAsync(Bound);
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {process.ExitCode}");
    }

    [Fact]
    public async Task ContainersList_PlantedAboveTheProjectNamingPid1_TokenNotSentThere()
    {
        // The attack: a dev.json in a shared directory above the victim's, naming a live PID and the attacker's port.
        await PlantAsync(Json(processId: 1));
        var below = Directory.CreateDirectory(Path.Combine(_dir.Path, "victim", "src")).FullName;
        using var admin = new RecordingAdmin();
        using var output = new StringWriter();
        using var error = new StringWriter();

        // The process check is the real one (/proc/1/cmdline), not the tests' stand-in.
        var exit = await BerthCli.RunAsync(["containers", "list"], output, error, null, null,
            new CliEnvironment(name => name == "BERTH_ADMIN_TOKEN" ? "victim-token" : null, below, _time, null, admin), CancellationToken.None);

        // Before: the request, with "Bearer victim-token", went to http://127.0.0.1:47111/.
        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal("http://127.0.0.1:8787/_berth/admin/containers", Assert.Single(admin.Requests));
        Assert.Equal($"berth: ignored {Planted}: process 1 is not a berth dev.", error.ToString().Trim());
    }

    [Fact]
    public async Task Find_FileOfAnotherUser_IgnoredSayingWhy()
    {
        await PlantAsync(Json());

        // The owner it must have, one that is not the file's: as a file chowned to another user, without needing root.
        var reason = Assert.Throws<UntrustedFileException>(() => TrustedFile.Read(Planted, 64 * 1024, owner: 4_000_000_000)).Message;

        Assert.StartsWith("it is owned by user ", reason, StringComparison.Ordinal);
        Assert.EndsWith(", not by this user (4000000000)", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Find_WritableByGroup_Ignored()
    {
        await PlantAsync(Json());
        File.SetUnixFileMode(Planted, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite);

        Assert.Null(Find());

        Assert.Equal($"ignored {Planted}: group or others may write it (mode 620).", Assert.Single(_ignored));
    }

    [Fact]
    public async Task Find_SymlinkToOwnValidFile_Ignored()
    {
        var real = Path.Combine(_dir.Path, "real.json");
        await File.WriteAllTextAsync(real, Json());
        File.SetUnixFileMode(real, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.CreateDirectory(Path.GetDirectoryName(Planted)!);
        File.CreateSymbolicLink(Planted, real);

        Assert.Null(Find());

        Assert.Equal($"ignored {Planted}: it is a symbolic link.", Assert.Single(_ignored));
    }

    [Fact]
    public async Task Find_Fifo_IgnoredWithoutBlocking()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Planted)!);
        await RunToolAsync("mkfifo", "-m", "600", Planted);

        // Before: opening the FIFO blocked every berth command until something wrote to it.
        var found = await Task.Run(() => Find()).WaitAsync(Bound);

        Assert.Null(found);
        Assert.Equal($"ignored {Planted}: it is a FIFO.", Assert.Single(_ignored));
    }

    [Fact]
    public void Find_SymlinkToDevZero_IgnoredWithoutReadingIt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Planted)!);
        File.CreateSymbolicLink(Planted, "/dev/zero");

        Assert.Null(Find());

        Assert.Equal($"ignored {Planted}: it is a symbolic link.", Assert.Single(_ignored));
    }

    [Fact]
    public async Task Find_LargerThan64KiB_Ignored()
    {
        await PlantAsync(Json()[..^1] + $",\"pad\":\"{new string(' ', 64 * 1024)}\"}}");

        Assert.Null(Find());

        Assert.Equal($"ignored {Planted}: it is larger than 64 KiB.", Assert.Single(_ignored));
    }

    [Theory]
    [InlineData("http://203.0.113.7:8787/")]
    [InlineData("http://localhost.attacker.example:8787/")]
    public async Task Find_HostNotLoopback_Ignored(string host)
    {
        await PlantAsync(Json(host));

        Assert.Null(Find());

        Assert.Equal($"ignored {Planted}: its host {host} is not a loopback address.", Assert.Single(_ignored));
    }

    [Fact]
    public async Task Find_OwnFileOfTheRunningBerthDev_Trusted()
    {
        await PlantAsync(Json("http://[::1]:9001/"));

        Assert.Equal(new Uri("http://[::1]:9001/"), Find()?.Host);
        Assert.Empty(_ignored);
    }

    [Fact]
    public async Task Find_StateAboveTheProjectDirectory_NotLookedAt()
    {
        // berth dev writes next to the .csproj, so a dev.json above it is not this project's.
        await PlantAsync(Json());
        var project = Directory.CreateDirectory(Path.Combine(_dir.Path, "app")).FullName;
        await File.WriteAllTextAsync(Path.Combine(project, "App.csproj"), "<Project />");
        var below = Directory.CreateDirectory(Path.Combine(project, "src", "deeper")).FullName;

        Assert.Null(Find(below));
        Assert.Empty(_ignored);

        // The project's own file is found from below it, as before.
        await DevState.WriteAsync(project, new DevState(new Uri("http://127.0.0.1:9001/"), "/data", Environment.ProcessId, _time.GetUtcNow()), CancellationToken.None);
        Assert.Equal(new Uri("http://127.0.0.1:9001/"), Find(below)?.Host);
    }

    [Fact]
    public async Task IsBerthDevProcess_RealProcesses_OnlyABerthDevCommandLine()
    {
        // A process whose command line is "sh -c '…' berth dev", as /proc shows it: an argument named berth, then dev.
        using var lookalike = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 600; true", "/opt/tools/berth", "dev"]) { UseShellExecute = false })!;
        try
        {
            Assert.True(DevState.IsBerthDevProcess(lookalike.Id), "sh … /opt/tools/berth dev should count as berth dev");
            Assert.False(DevState.IsBerthDevProcess(1), "PID 1 is not berth dev");
            Assert.False(DevState.IsBerthDevProcess(Environment.ProcessId), "the test host is not berth dev");
        }
        finally
        {
            lookalike.Kill(entireProcessTree: true);
            await lookalike.WaitForExitAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task IsBerthDevProcess_BerthDevOfAnotherUser_NotTrusted()
    {
        // The attack: a victim's berth dev died, leaving its dev.json; another user got its PID (and its port) with a
        // process whose command line reads "berth dev". Its owner is made "another user" by asking for an owner that is
        // not this process's, as a process of another user would be, without needing a second user.
        using var lookalike = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 600; true", "/opt/tools/berth", "dev"]) { UseShellExecute = false })!;
        try
        {
            Assert.True(DevState.IsBerthDevProcess(lookalike.Id), "this user's sh … /opt/tools/berth dev should count as berth dev");

            // Before: any process with that command line counted, whoever ran it.
            Assert.False(DevState.IsBerthDevProcess(lookalike.Id, owner: 4_000_000_000), "another user's berth dev should not count");
        }
        finally
        {
            lookalike.Kill(entireProcessTree: true);
            await lookalike.WaitForExitAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public void OwnerOf_ProcDirectoryOfThisProcess_TheEffectiveUser()
    {
        Assert.Equal(TrustedFile.EffectiveUserId, TrustedFile.OwnerOf($"/proc/{Environment.ProcessId}"));
        Assert.Null(TrustedFile.OwnerOf("/proc/no-such-process"));
    }

    /// <summary>Answers every admin request with an empty container list, and records the addresses.</summary>
    private sealed class RecordingAdmin : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!.AbsoluteUri);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("[]", Encoding.UTF8, "application/json") });
        }
    }
}
