using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// struct bpf_object_open_opts (libbpf.h, 1.1): only sz and object_name are set; libbpf reads no further than sz, so
/// this prefix is a valid opts for any 1.x (fields added later default to zero).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfObjectOpenOptions
{
    /// <summary>size_t sz: sizeof this struct.</summary>
    public nuint Size;

    /// <summary>const char *object_name: shown in libbpf's messages and bpftool.</summary>
    public byte* ObjectName;
}
