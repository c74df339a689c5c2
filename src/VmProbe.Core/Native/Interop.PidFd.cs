using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>
        /// pidfd_open(2) (glibc 2.36+ wrapper; Linux 5.3+): a pidfd for <paramref name="pid"/>, or an invalid handle and
        /// errno (ESRCH: gone; ENOSYS: old kernel). The fd is close-on-exec.
        /// </summary>
        internal static SafeFdHandle PidFdOpen(int pid) => new(PidFdOpenCore(pid, 0), FdKind.Transient);

        /// <summary>
        /// pidfd_getfd(2) (Linux 5.6+): a duplicate, in this process, of fd <paramref name="targetFd"/> of the process
        /// behind <paramref name="pidFd"/>, sharing its open file (and file position: read it with pread only). Needs
        /// PTRACE_MODE_ATTACH_REALCREDS over the target (root). Invalid handle and errno (EPERM, EBADF, ESRCH) on failure.
        /// </summary>
        internal static SafeFdHandle PidFdGetFd(SafeFdHandle pidFd, int targetFd, FdKind kind) =>
            new(PidFdGetFdCore(pidFd, targetFd, 0), kind);

        [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_open", SetLastError = true)]
        private static partial int PidFdOpenCore(int pid, uint flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "pidfd_getfd", SetLastError = true)]
        private static partial int PidFdGetFdCore(SafeFdHandle pidFd, int targetFd, uint flags);
    }
}
