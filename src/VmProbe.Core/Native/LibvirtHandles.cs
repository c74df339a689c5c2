using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>A virConnectPtr; released with virConnectClose.</summary>
internal sealed class LibvirtConnectionHandle : SafeHandle
{
    public LibvirtConnectionHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public LibvirtConnectionHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}

/// <summary>A virDomainPtr; released with virDomainFree.</summary>
internal sealed class LibvirtDomainHandle : SafeHandle
{
    public LibvirtDomainHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public LibvirtDomainHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) >= 0;
}

/// <summary>The NULL-terminated virDomainStatsRecordPtr array from virConnectGetAllDomainStats; released with virDomainStatsRecordListFree.</summary>
internal sealed class LibvirtStatsRecordListHandle : SafeHandle
{
    public LibvirtStatsRecordListHandle(IntPtr handle, int count)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
        Count = count;
    }

    public int Count { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibvirtNative.virDomainStatsRecordListFree(handle);
        return true;
    }
}
