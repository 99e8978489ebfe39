using System.Diagnostics;
using System.Globalization;
using System.Text;
using Berth.Runtime;
using Berth.Testing;

namespace Berth.Docker.Tests;

/// <summary>
/// Resource abuse (issue 12 item 4) on the real engine: a fork bomb, a disk filler and a socket hog each run in one
/// container, bounded to seconds, while a neighbour container keeps answering the host and the abuse stays inside its
/// instance type's limits (<see cref="InstanceType.PidsLimit"/>, a size-limited scratch tmpfs,
/// <see cref="InstanceType.OpenFilesLimit"/>).
/// </summary>
public class ResourceAbuseTests(EngineFixture fixture) : EngineTest(fixture)
{
    private const int WebPort = 8080;

    /// <summary>Opens TCP sockets until it has the number asked for or the kernel refuses one; prints how many.</summary>
    private const string SocketHogSource = """
        #include <errno.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        int main(int argc, char **argv) {
          int want = argc > 1 ? atoi(argv[1]) : 100000, n = 0;
          for (; n < want; n++) {
            if (socket(AF_INET, SOCK_STREAM, 0) < 0) { printf("opened %d, then: %s\n", n, strerror(errno)); return 1; }
          }
          printf("opened %d\n", n);
          return 0;
        }
        """;

    [Fact]
    public async Task ForkBomb_InBasicContainer_StopsAtItsPidsLimitWhileTheNeighbourAnswers()
    {
        var (_, neighbourIp) = await RunWebAsync();
        var bomb = await RunAsync(Spec(Images.Base, "/bin/sh", "-c", "sleep 1; b() { b | b & }; b; sleep 600") with
        {
            InstanceType = InstanceType.Basic,
            PidsLimit = InstanceType.Basic.PidsLimit,
        });

        // Let it hit the ceiling, then check the neighbour and the host while the bomb keeps trying.
        var peak = 0L;
        var until = Stopwatch.StartNew();
        while (until.Elapsed < TimeSpan.FromSeconds(8))
        {
            peak = Math.Max(peak, await ReadPidsCurrentAsync(bomb));
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        }

        Assert.True(await AnswersAsync(neighbourIp), "the neighbour stopped answering during the fork bomb");
        Assert.InRange(peak, InstanceType.Basic.PidsLimit / 2, InstanceType.Basic.PidsLimit);
        Assert.Equal(0, RunOnHost("/bin/true"));
    }

    [Fact]
    public async Task DiskFiller_WritingToScratchTmpfs_GetsNoSpaceAtItsSizeWhileTheNeighbourAnswers()
    {
        var (_, neighbourIp) = await RunWebAsync();
        var filler = await RunAsync(Spec(Images.Base, "/bin/sleep", "600") with { InstanceType = InstanceType.Lite, ScratchMounts = ["/tmp"] });
        var limitMb = Math.Min(InstanceType.Lite.DiskMb, InstanceType.Lite.MemoryMib / 2);

        var (exit, output) = await ExecAsync(filler, "dd if=/dev/zero of=/tmp/fill bs=1M count=2000 2>&1; echo written $(du -m /tmp/fill | cut -f1)");

        Assert.Equal(0, exit);
        Assert.Contains("No space left on device", output, StringComparison.Ordinal);
        var written = int.Parse(output.Trim().Split(' ')[^1], CultureInfo.InvariantCulture);
        Assert.InRange(written, limitMb - 2, limitMb);
        Assert.True(await AnswersAsync(neighbourIp), "the neighbour stopped answering after the disk filler");
    }

    [Fact]
    public async Task SocketHog_Opening100kSockets_StopsAtItsOpenFilesLimitWhileTheNeighbourAnswers()
    {
        var (_, neighbourIp) = await RunWebAsync();
        var hog = await RunAsync(Spec(Images.Base, "/bin/sleep", "600") with { InstanceType = InstanceType.Lite });
        await CopyInAsync(hog, CompileSocketHog(), "/tmp/sockhog");

        var (exit, output) = await ExecAsync(hog, "/tmp/sockhog 100000");

        Assert.Equal(1, exit);
        Assert.Contains("Too many open files", output, StringComparison.Ordinal);
        var opened = int.Parse(output.Split(' ')[1].TrimEnd(','), CultureInfo.InvariantCulture);
        Assert.InRange(opened, InstanceType.Lite.OpenFilesLimit - 16, InstanceType.Lite.OpenFilesLimit);
        Assert.True(await AnswersAsync(neighbourIp), "the neighbour stopped answering after the socket hog");
    }

    private async Task<(string Id, string Ip)> RunWebAsync()
    {
        var id = await RunAsync(Spec(Images.Base, "/bin/busybox", "httpd", "-f", "-p", WebPort.ToString(CultureInfo.InvariantCulture), "-h", "/etc")
            with { InstanceType = InstanceType.Lite });
        var ip = (await Runtime.InspectAsync(id))?.IpAddress ?? throw new InvalidOperationException("no address");
        using var answered = await ContainerWaits.WaitForHttpAsync(new Uri($"http://{ip}:{WebPort}/hostname"), Generous);
        return (id, ip);
    }

    private static async Task<bool> AnswersAsync(string ip)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var response = await Http.GetAsync(new Uri($"http://{ip}:{WebPort}/hostname"), timeout.Token);
        return response.IsSuccessStatusCode;
    }

    private async Task<(int ExitCode, string Output)> ExecAsync(string id, string script)
    {
        using var output = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", script] }, new ExecStreams(Stdout: output, Stderr: output), timeout.Token);
        return (exit, Encoding.UTF8.GetString(output.ToArray()));
    }

    private async Task CopyInAsync(string id, byte[] content, string path)
    {
        using var stdin = new MemoryStream(content);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exit = await Runtime.ExecAsync(id, new ExecSpec { Command = ["/bin/sh", "-c", $"cat > {path} && chmod +x {path}"] }, new ExecStreams(stdin), timeout.Token);
        Assert.Equal(0, exit);
    }

    /// <summary>The pids cgroup's current count of a running container (cgroup v1 or v2, cgroupfs or systemd driver).</summary>
    private async Task<long> ReadPidsCurrentAsync(string id)
    {
        var full = (await Runtime.InspectAsync(id))?.Id ?? id;
        string[] paths =
        [
            $"/sys/fs/cgroup/pids/docker/{full}/pids.current",
            $"/sys/fs/cgroup/docker/{full}/pids.current",
            $"/sys/fs/cgroup/system.slice/docker-{full}.scope/pids.current",
        ];
        var path = paths.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException($"no pids cgroup found for {full}");
        return long.Parse((await File.ReadAllTextAsync(path)).Trim(), CultureInfo.InvariantCulture);
    }

    private static byte[] CompileSocketHog()
    {
        var directory = Directory.CreateTempSubdirectory("berth-sockhog-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "sockhog.c"), SocketHogSource);
            var exit = RunOnHost("gcc", "-static", "-O2", "-o", Path.Combine(directory.FullName, "sockhog"), Path.Combine(directory.FullName, "sockhog.c"));
            Assert.True(exit == 0, "gcc could not build the socket hog (scripts/bootstrap.sh installs gcc)");
            return File.ReadAllBytes(Path.Combine(directory.FullName, "sockhog"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static int RunOnHost(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
