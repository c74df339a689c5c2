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

    protected override bool ReleaseHandle() => Interop.Libvirt.virConnectClose(handle) >= 0;
}

/// <summary>A virDomainPtr; released with virDomainFree unless borrowed (a stats record's domain, freed with its list).</summary>
internal sealed class LibvirtDomainHandle : SafeHandle
{
    public LibvirtDomainHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public LibvirtDomainHandle(IntPtr handle, bool ownsHandle = true)
        : base(IntPtr.Zero, ownsHandle)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Interop.Libvirt.virDomainFree(handle) >= 0;
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
        Interop.Libvirt.virDomainStatsRecordListFree(handle);
        return true;
    }
}
