using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>A struct bpf_object * (libbpf's); closed with bpf_object__close, which unloads its programs and closes its maps.</summary>
internal sealed class BpfObjectHandle : SafeHandle
{
    public BpfObjectHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public BpfObjectHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Interop.Libbpf.bpf_object__close(handle);
        return true;
    }
}

/// <summary>A struct bpf_link * (an attached program); destroyed with bpf_link__destroy, which detaches it.</summary>
internal sealed class BpfLinkHandle : SafeHandle
{
    public BpfLinkHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public BpfLinkHandle(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Interop.Libbpf.bpf_link__destroy(handle) == 0;
}
