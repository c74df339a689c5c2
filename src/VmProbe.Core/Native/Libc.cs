using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>The few libc calls the perf engine needs. All set errno; read it with <see cref="Marshal.GetLastPInvokeError"/>.</summary>
internal static unsafe class Libc
{
    private const string LibraryName = "libc";

    /// <summary>__NR_perf_event_open on x86_64; glibc has no wrapper.</summary>
    public const long SysPerfEventOpen = 298;

    public const int RlimitNoFile = 7;

    public const int O_RDONLY = 0x0;
    public const int O_DIRECTORY = 0x10000;
    public const int O_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    public static extern long PerfEventOpenSyscall(long number, PerfEventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

    [DllImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    public static extern int Ioctl(int fd, ulong request, ulong argument);

    [DllImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    public static extern int Ioctl(int fd, ulong request, ulong* argument);

    [DllImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    public static extern nint Read(int fd, byte* buffer, nuint count);

    [DllImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport(LibraryName, EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport(LibraryName, EntryPoint = "getrlimit", SetLastError = true)]
    public static extern int GetRLimit(int resource, RLimit* limit);

    [DllImport(LibraryName, EntryPoint = "setrlimit", SetLastError = true)]
    public static extern int SetRLimit(int resource, RLimit* limit);
}
