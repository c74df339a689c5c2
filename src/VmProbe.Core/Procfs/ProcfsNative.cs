using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>Raw open/read/close/readlink: procfs files report size 0 and must be read in one loop without a stat.</summary>
internal static unsafe partial class ProcfsNative
{
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EACCES = 13;
    internal const int ENOTDIR = 20;
    internal const int EPERM = 1;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;

    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;

    internal const int OpenReadOnlyFlags = O_RDONLY | O_CLOEXEC;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    internal static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    internal static partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true)]
    internal static partial nint ReadLink(byte* path, byte* buffer, nuint size);

    internal static string ErrnoName(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        5 => "EIO",
        9 => "EBADF",
        12 => "ENOMEM",
        EACCES => "EACCES",
        ENOTDIR => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        36 => "ENAMETOOLONG",
        _ => "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
