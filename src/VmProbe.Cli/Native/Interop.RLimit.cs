using System.Runtime.InteropServices;

namespace VmProbe.Cli.Native;

internal static partial class Interop
{
    internal const int RlimitNoFile = 7;

    /// <summary>getrlimit: 0, or -1 and errno. <paramref name="limit"/> is { soft, hard }.</summary>
    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    internal static partial int GetRLimit(int resource, [Out] ulong[] limit);
}
