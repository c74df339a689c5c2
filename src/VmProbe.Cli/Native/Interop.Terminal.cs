using System.Runtime.InteropServices;

namespace VmProbe.Cli.Native;

/// <summary>
/// The terminal calls of <c>vmprobe top</c>. struct termios is kept as glibc's bytes (x86_64 and aarch64: c_iflag at
/// 0, c_oflag 4, c_cflag 8, c_lflag 12, c_line 16, c_cc[32] from 17, speeds after; 60 bytes) and only the flags the
/// view changes are touched, so whatever else the terminal had comes back unchanged.
/// </summary>
internal static partial class Interop
{
    internal const int TermiosBytes = 60;
    internal const int TermiosIflagOffset = 0;
    internal const int TermiosLflagOffset = 12;
    internal const int TermiosCcOffset = 17;
    internal const int Vtime = 5;
    internal const int Vmin = 6;
    internal const uint Icanon = 0x2;
    internal const uint Echo = 0x8;
    internal const uint Icrnl = 0x100;
    internal const uint Ixon = 0x400;
    internal const int TcsaNow = 0;
    internal const nuint TiocGWinSz = 0x5413;

    /// <summary>isatty: 1 for a terminal, 0 otherwise.</summary>
    [LibraryImport("libc", EntryPoint = "isatty")]
    internal static partial int IsATty(int fd);

    /// <summary>tcgetattr: 0, or -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    internal static partial int TcGetAttr(int fd, [Out] byte[] termios);

    /// <summary>tcsetattr: 0, or -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    internal static partial int TcSetAttr(int fd, int when, [In] byte[] termios);

    /// <summary>ioctl(fd, TIOCGWINSZ, struct winsize*): rows, columns, x and y pixels as four ushorts.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlWinSize(int fd, nuint request, [Out] ushort[] winsize);

    /// <summary>read(2) on a raw fd: the bytes read, 0 at end of file, or -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, [Out] byte[] buffer, nint count);
}
