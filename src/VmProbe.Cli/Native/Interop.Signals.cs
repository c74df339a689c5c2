using System.Runtime.InteropServices;

namespace VmProbe.Cli.Native;

/// <summary>
/// The runner's own libc calls (the engine's Interop is internal to VmProbe.Core): the signal mask, a synchronous
/// wait for a blocked signal, and execve. A sigset_t is glibc's 1024 bits (16 ulongs); signal n is bit n-1.
/// </summary>
internal static partial class Interop
{
    internal const int SigBlock = 0;
    internal const int SigSetMask = 2;
    internal const int SigsetWords = 16;
    internal const int SiginfoBytes = 128;

    /// <summary>pthread_sigmask: 0, or the error number (it does not set errno).</summary>
    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    internal static partial int PthreadSigmask(int how, [In] ulong[]? set, [Out] ulong[]? oldSet);

    /// <summary>sigwaitinfo: the signal taken from the pending set, or -1 and errno (EINTR).</summary>
    [LibraryImport("libc", EntryPoint = "sigwaitinfo", SetLastError = true)]
    internal static partial int SigWaitInfo([In] ulong[] set, [Out] byte[] info);

    /// <summary>execve: replaces the process image; returns only on failure (-1 and errno).</summary>
    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ExecVe(string path, [In] nint[] argv, [In] nint[] envp);
}
