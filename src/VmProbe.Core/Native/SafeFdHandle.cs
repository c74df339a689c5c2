using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>What an fd is kept for; the fd budget counts perf and kept procfs fds against RLIMIT_NOFILE.</summary>
internal enum FdKind
{
    /// <summary>Short-lived (a file read once, a directory listing, the textfile): not counted.</summary>
    Transient,

    /// <summary>A perf event.</summary>
    PerfEvent,

    /// <summary>A per-thread procfs file kept open across cycles and re-read with pread.</summary>
    KeptProcfs,

    /// <summary>A KVM binary statistics fd duplicated from QEMU with pidfd_getfd and kept across cycles.</summary>
    KvmStats,
}

/// <summary>
/// The one owner of a file descriptor. Native calls take it as a parameter, so the marshaller AddRefs it for the call and
/// a concurrent Dispose cannot close (and let the kernel reuse) the fd mid-call. fd 0 is valid: only -1 is invalid.
/// </summary>
internal sealed class SafeFdHandle : SafeHandle
{
    private static readonly long[] OpenCounts = new long[4];

    private FdKind _kind;

    /// <summary>For the marshaller (a SafeFdHandle return value): starts invalid, is set after the call.</summary>
    public SafeFdHandle()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    /// <summary>Owns <paramref name="fd"/> as returned by a call returning a C int (-1 on failure gives an invalid handle).</summary>
    internal SafeFdHandle(int fd, FdKind kind)
        : this()
    {
        SetHandle(new IntPtr(fd));
        Track(kind);
    }

    /// <summary>"No fd" for calls that take -1 (perf_event_open's group_fd): never closed.</summary>
    internal static SafeFdHandle None { get; } = new();

    public override bool IsInvalid => handle == new IntPtr(-1);

    /// <summary>fds of <paramref name="kind"/> open right now in this process (opened by this engine).</summary>
    internal static long OpenCount(FdKind kind) => Interlocked.Read(ref OpenCounts[(int)kind]);

    /// <summary>Counts this fd as <paramref name="kind"/> until it is closed. Call once, right after it was opened.</summary>
    internal SafeFdHandle Track(FdKind kind)
    {
        if (!IsInvalid && kind != FdKind.Transient)
        {
            _kind = kind;
            Interlocked.Increment(ref OpenCounts[(int)kind]);
        }

        return this;
    }

    /// <summary>Closes now and returns 0 or close(2)'s errno (NFS reports deferred write errors there); disposal then does nothing.</summary>
    internal int CloseAndGetErrno()
    {
        var fd = handle;
        SetHandleAsInvalid();
        Untrack();
        return Interop.Libc.Close(fd) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    protected override bool ReleaseHandle()
    {
        Untrack();

        // The fd is gone even when close fails (EINTR included on Linux): never retry.
        return Interop.Libc.Close(handle) == 0;
    }

    private void Untrack()
    {
        if (_kind != FdKind.Transient)
        {
            Interlocked.Decrement(ref OpenCounts[(int)_kind]);
            _kind = FdKind.Transient;
        }
    }
}
