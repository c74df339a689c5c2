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

/// <summary>
/// struct bpf_iter_attach_opts (libbpf.h): size_t sz; union bpf_iter_link_info *link_info; __u32 link_info_len
/// (24 bytes with the tail padding).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfIterAttachOptions
{
    public nuint Size;
    public BpfIterTaskLinkInfo* LinkInfo;
    public uint LinkInfoLength;
}

/// <summary>
/// union bpf_iter_link_info (linux/bpf.h), its task member (Linux 6.1+): __u32 tid; __u32 pid; __u32 pid_fd. The union
/// is 16 bytes (its cgroup member is __u32 order, __u32 cgroup_fd, __u64 cgroup_id); one of the three may be set.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct BpfIterTaskLinkInfo
{
    /// <summary>Only this thread is visited.</summary>
    [FieldOffset(0)]
    public uint Tid;

    /// <summary>Only the threads of this process are visited.</summary>
    [FieldOffset(4)]
    public uint Pid;

    [FieldOffset(8)]
    public uint PidFd;
}

/// <summary>
/// struct bpf_test_run_opts (bpf.h, libbpf 1.1; 80 bytes): only what a raw_tp test run sets (sz, ctx_in,
/// ctx_size_in) and reads back (retval); the kernel refuses data, repeat and batch for raw_tp programs.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfTestRunOptions
{
    public nuint Size;
    public void* DataIn;
    public void* DataOut;
    public uint DataSizeIn;
    public uint DataSizeOut;
    public void* ContextIn;
    public void* ContextOut;
    public uint ContextSizeIn;
    public uint ContextSizeOut;
    public uint ReturnValue;
    public int Repeat;
    public uint Duration;
    public uint Flags;
    public uint Cpu;
    public uint BatchSize;
}
