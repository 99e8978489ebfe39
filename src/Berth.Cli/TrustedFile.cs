using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Cli;

/// <summary>
/// Reads a small file only if the current user could have written it alone: a regular file (not a symlink, FIFO or
/// device) owned by the effective user and not writable by group or others. For <c>.berth/dev.json</c>, which other
/// users can plant in a directory above the project (such as <c>/tmp</c>) to learn the admin token. <see cref="ReadRegular"/>
/// checks only the type and the size (the admin token file); <see cref="OwnerOf"/> tells who owns a path (a <c>/proc/&lt;pid&gt;</c>).
/// </summary>
internal static partial class TrustedFile
{
    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> of <paramref name="path"/>; <see langword="null"/> when it does not exist.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes read; a bigger file is refused.</param>
    /// <param name="owner">The user ID that must own the file (Linux); <see langword="null"/> for the effective user's.</param>
    /// <exception cref="UntrustedFileException">The file exists but is not to be trusted, or is larger than <paramref name="maxBytes"/>; the message says why.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file could not be opened.</exception>
    public static byte[]? Read(string path, int maxBytes, uint? owner = null) =>
        OperatingSystem.IsLinux() ? ReadLinux(path, maxBytes, owner ?? GetEffectiveUserId()) : ReadPortable(path, maxBytes, checkMode: true);

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> of <paramref name="path"/> if it is a regular file (not a symlink, FIFO or
    /// device), whoever owns it and whatever its mode; <see langword="null"/> when it does not exist. For files whose
    /// content is not trusted for where it points, only read (the admin token), so that a FIFO does not hang the reader
    /// and a link to <c>/dev/zero</c> does not fill its memory.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes read; a bigger file is refused.</param>
    /// <exception cref="UntrustedFileException">The file exists but is not a regular file, or is larger than <paramref name="maxBytes"/>; the message says why.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file could not be opened.</exception>
    public static byte[]? ReadRegular(string path, int maxBytes) =>
        OperatingSystem.IsLinux() ? ReadLinux(path, maxBytes, owner: null) : ReadPortable(path, maxBytes, checkMode: false);

    /// <summary>The user ID that owns <paramref name="path"/> itself (a symlink is not followed); <see langword="null"/> when it cannot be told (gone, or not Linux).</summary>
    /// <remarks>The owner of <c>/proc/&lt;pid&gt;</c> is the effective user of that process.</remarks>
    public static uint? OwnerOf(string path) =>
        OperatingSystem.IsLinux() && Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, out var status) == 0 ? status.Uid : null;

    /// <summary>The effective user ID of this process on Linux; <see langword="null"/> elsewhere.</summary>
    public static uint? EffectiveUserId => OperatingSystem.IsLinux() ? GetEffectiveUserId() : null;

    // .NET has no API for a file's owner, and opening a FIFO through it blocks; statx has the same struct layout on every
    // Linux architecture (unlike stat), so libc's statx, geteuid and open are called directly.
    // owner null: a regular file of any owner and mode (ReadRegular).
    private static byte[]? ReadLinux(string path, int maxBytes, uint? owner)
    {
        // The name itself, not what a symlink points to.
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, out var named) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR ? null : throw new IOException($"cannot stat it (errno {errno})");
        }

        CheckType(named.Mode);

        // O_NONBLOCK: a FIFO swapped in after the check above does not block the open (a regular file ignores the flag).
        var fd = Open(path, ONonBlock | OCloExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? null : throw new UnauthorizedAccessException($"cannot open it (errno {errno})");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);

        // What was opened, checked again: a directory above may have been swapped between the two calls.
        if (Statx(fd, "", AtEmptyPath, StatxBasicStats, out var opened) != 0)
        {
            throw new IOException($"cannot stat it (errno {Marshal.GetLastPInvokeError()})");
        }

        CheckType(opened.Mode);
        if (opened.Ino != named.Ino || opened.DevMajor != named.DevMajor || opened.DevMinor != named.DevMinor)
        {
            throw new UntrustedFileException("it changed while being opened");
        }

        if (owner is null)
        {
            return ReadAtMost(handle, maxBytes);
        }

        if (opened.Uid != owner)
        {
            throw new UntrustedFileException($"it is owned by user {opened.Uid}, not by this user ({owner})");
        }

        if ((opened.Mode & GroupOrOtherWrite) != 0)
        {
            throw new UntrustedFileException($"group or others may write it (mode {Convert.ToString(opened.Mode & 0x1FF, 8)})");
        }

        return ReadAtMost(handle, maxBytes);
    }

    // Elsewhere (macOS, Windows) .NET shows a link and the mode, not the owner: those are checked.
    private static byte[]? ReadPortable(string path, int maxBytes, bool checkMode)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        if (info.LinkTarget is not null)
        {
            throw new UntrustedFileException("it is a symbolic link");
        }

        if (checkMode && !OperatingSystem.IsWindows()
            && (File.GetUnixFileMode(path) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new UntrustedFileException("group or others may write it");
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        return ReadAtMost(handle, maxBytes);
    }

    private static byte[] ReadAtMost(SafeFileHandle handle, int maxBytes)
    {
        // One byte more than allowed tells a file that is too big, whatever its size says (procfs files say 0).
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = RandomAccess.Read(handle, buffer.AsSpan(total), total)) > 0)
        {
            total += read;
        }

        return total > maxBytes
            ? throw new UntrustedFileException($"it is larger than {maxBytes / 1024} KiB")
            : buffer[..total];
    }

    private static void CheckType(ushort mode)
    {
        var type = mode & FileTypeMask;
        if (type != RegularFile)
        {
            throw new UntrustedFileException(type switch
            {
                SymbolicLink => "it is a symbolic link",
                Fifo => "it is a FIFO",
                CharacterDevice or BlockDevice => "it is a device",
                Directory => "it is a directory",
                _ => "it is not a regular file",
            });
        }
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int FileTypeMask = 0xF000;
    private const int Fifo = 0x1000;
    private const int CharacterDevice = 0x2000;
    private const int Directory = 0x4000;
    private const int BlockDevice = 0x6000;
    private const int RegularFile = 0x8000;
    private const int SymbolicLink = 0xA000;
    private const int GroupOrOtherWrite = 0x12; // 0o022

    /// <summary>The fields of Linux's <c>struct statx</c> (256 bytes, the same on every architecture) that are checked.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    // open(2) is variadic; without O_CREAT it reads no mode, so the two-argument form is safe on Linux.
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}

/// <summary>A file that exists but is not trusted; the message says why (such as "it is owned by user 1001, not by this user (1000)").</summary>
internal sealed class UntrustedFileException(string message) : Exception(message);
