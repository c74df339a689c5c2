using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int ScClkTck = 2;

        [LibraryImport(Libraries.Libc, EntryPoint = "sysconf")]
        internal static partial long Sysconf(int name);
    }
}
