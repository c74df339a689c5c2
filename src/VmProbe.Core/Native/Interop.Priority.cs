using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>getpriority/setpriority's <c>which</c> for one process or, given a thread id, that thread alone.</summary>
        internal const int PrioProcess = 0;

        /// <summary>gettid(2): the calling thread's id (glibc 2.30+).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "gettid")]
        internal static partial int GetTid();

        /// <summary>getpriority(2): the nice value (-20..19); -1 is also a valid value, so callers clear errno first.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "getpriority", SetLastError = true)]
        internal static partial int GetPriority(int which, int who);

        /// <summary>setpriority(2): on Linux a thread id sets that thread's nice value alone. 0 or -1 and errno (EACCES:
        /// raising it back needs CAP_SYS_NICE or RLIMIT_NICE).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "setpriority", SetLastError = true)]
        internal static partial int SetPriority(int which, int who, int nice);
    }
}
