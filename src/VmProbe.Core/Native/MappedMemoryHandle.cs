using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>A shared mapping made with mmap(2) (a BPF_F_MMAPABLE map's values); munmap at release. The mapping holds the
/// kernel object it maps alive on its own, so it may outlive the fd it was made from.</summary>
internal sealed class MappedMemoryHandle : SafeHandle
{
    private static readonly IntPtr MapFailed = new(-1);

    private MappedMemoryHandle(IntPtr address, nuint length)
        : base(MapFailed, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public nuint Length { get; }

    public override bool IsInvalid => handle == MapFailed || handle == IntPtr.Zero;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> read-write and shared; null and errno on failure.</summary>
    public static MappedMemoryHandle? TryMap(int fd, nuint length, out int errno)
    {
        var address = Interop.Libc.Mmap(IntPtr.Zero, length, Interop.Libc.ProtRead | Interop.Libc.ProtWrite, Interop.Libc.MapShared, fd, 0);
        errno = address == MapFailed ? Marshal.GetLastPInvokeError() : 0;
        return address == MapFailed ? null : new MappedMemoryHandle(address, length);
    }

    protected override bool ReleaseHandle() => Interop.Libc.Munmap(handle, Length) == 0;
}
