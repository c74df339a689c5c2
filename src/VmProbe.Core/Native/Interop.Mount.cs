using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>For mounting tracefs when it is missing and we are root.</summary>
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Mount(string source, string target, string fileSystemType, ulong mountFlags, IntPtr data);

        [LibraryImport(Libraries.Libc, EntryPoint = "geteuid")]
        internal static partial uint GetEUid();
    }
}
