using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int SigKill = 9;

        /// <summary>kill(2): <paramref name="pid"/> below 0 signals every process of group <c>-pid</c>; -1 and errno (ESRCH: none left).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
