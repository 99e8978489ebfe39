using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Runtime;

/// <summary>
/// A minimal root filesystem made from the host's static busybox (with its applet links) and the
/// glibc files a Native AOT binary needs, written as a tar an <see cref="IImageOperations"/> can import.
/// </summary>
public static class BusyboxRootfs
{
    private const string LibDirectory = "/lib/x86_64-linux-gnu";

    // Bump when the layout below changes, so cached base images are re-imported.
    private const string RecipeVersion = "2";

    private static readonly string[] RequiredLibraries = ["ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6"];
    // OpenSSL is what .NET's cryptography (and so the WebSocket handshake) loads on Linux.
    private static readonly string[] OptionalLibraries =
        ["libgcc_s.so.1", "libstdc++.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libssl.so.3", "libcrypto.so.3", "libz.so.1"];
    private static readonly string[] Directories =
        ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "usr/local", "usr/local/bin", "lib", "lib/x86_64-linux-gnu", "lib64",
         "etc", "root", "home", "var", "var/tmp", "tmp", "proc", "sys", "dev", "app"];

    private static readonly string[] BusyboxLocations = ["/bin/busybox", "/usr/bin/busybox"];

    private static readonly DateTimeOffset FixedTime = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Path of the host's busybox; Debian's <c>busybox-static</c> installs it at <c>/bin/busybox</c>.</summary>
    public static string FindBusybox() =>
        BusyboxLocations.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("busybox not found in /bin or /usr/bin; install it with 'apt-get install -y busybox-static'.");

    /// <summary>A hash of everything the rootfs is made from, to tell whether a cached image is current.</summary>
    public static string ComputeContentHash()
    {
        var text = new StringBuilder(RecipeVersion);
        foreach (var path in HostFiles())
        {
            var info = new FileInfo(path);
            text.Append('|').Append(path).Append(':').Append(info.Length).Append(':').Append(info.LastWriteTimeUtc.Ticks);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    /// <summary>Writes the rootfs tar to <paramref name="destination"/>.</summary>
    public static async Task WriteAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        var busybox = FindBusybox();
        var applets = await ListAppletsAsync(busybox, cancellationToken);
        await using var writer = new TarWriter(destination, TarEntryFormat.Pax, leaveOpen: true);

        foreach (var directory in Directories)
        {
            var mode = directory is "tmp" or "var/tmp"
                ? UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                  | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                  | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute
                : directory == "root" ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : Executable;
            await writer.WriteEntryAsync(Entry(TarEntryType.Directory, directory + "/", mode), cancellationToken);
        }

        await WriteFileAsync(writer, "bin/busybox", busybox, Executable, cancellationToken);
        foreach (var applet in applets.Where(a => a != "bin/busybox"))
        {
            await writer.WriteEntryAsync(Link(applet, "/bin/busybox"), cancellationToken);
        }

        foreach (var library in Libraries())
        {
            // Follow the host's symlinks (libc.so.6 -> libc-2.36.so): the image gets the real file under the soname.
            var path = Path.Combine(LibDirectory, library);
            var real = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            await WriteFileAsync(writer, $"lib/x86_64-linux-gnu/{library}", real, Executable, cancellationToken);
        }

        await writer.WriteEntryAsync(Link("lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), cancellationToken);

        await WriteTextAsync(writer, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", cancellationToken);
        await WriteTextAsync(writer, "etc/group", "root:x:0:\nnogroup:x:65534:\n", cancellationToken);
        await WriteTextAsync(writer, "etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n", cancellationToken);
        await WriteTextAsync(writer, "etc/os-release", "NAME=\"Berth test base (busybox + glibc)\"\nID=berth-test\n", cancellationToken);
    }

    private const UnixFileMode Executable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static IEnumerable<string> Libraries() =>
        RequiredLibraries.Select(l => File.Exists(Path.Combine(LibDirectory, l))
                ? l
                : throw new FileNotFoundException($"{Path.Combine(LibDirectory, l)} not found; the test base image needs the host's glibc."))
            .Concat(OptionalLibraries.Where(l => File.Exists(Path.Combine(LibDirectory, l))));

    private static IEnumerable<string> HostFiles() =>
        new[] { FindBusybox() }.Concat(Libraries().Select(l => Path.Combine(LibDirectory, l)))
            .Select(p => File.ResolveLinkTarget(p, returnFinalTarget: true)?.FullName ?? p);

    private static async Task<IReadOnlyList<string>> ListAppletsAsync(string busybox, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(busybox, "--list-full") { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not run {busybox}.");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a.Contains('/', StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, UnixFileMode mode) =>
        new(type, name) { Mode = mode, Uid = 0, Gid = 0, ModificationTime = FixedTime };

    private static PaxTarEntry Link(string name, string target)
    {
        var entry = Entry(TarEntryType.SymbolicLink, name, Executable);
        entry.LinkName = target;
        return entry;
    }

    private static async Task WriteFileAsync(TarWriter writer, string name, string source, UnixFileMode mode, CancellationToken cancellationToken)
    {
        await using var data = File.OpenRead(source);
        var entry = Entry(TarEntryType.RegularFile, name, mode);
        entry.DataStream = data;
        await writer.WriteEntryAsync(entry, cancellationToken);
    }

    private static async Task WriteTextAsync(TarWriter writer, string name, string text, CancellationToken cancellationToken)
    {
        using var data = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var entry = Entry(TarEntryType.RegularFile, name, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        entry.DataStream = data;
        await writer.WriteEntryAsync(entry, cancellationToken);
    }
}
