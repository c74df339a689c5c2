using System.Runtime.InteropServices;

namespace VmProbe.Bpf;

/// <summary>struct agg_count_key (programs/agg.h): counts per (process, thread, f1, f2); tid 0 holds exited threads.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AggCountKey
{
    public uint Tgid;
    public uint Tid;
    public uint F1;
    public uint F2;
}

/// <summary>struct agg_hist_key (programs/agg.h): a histogram per (process, field).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AggHistKey
{
    public uint Tgid;
    public uint Field;
}

/// <summary>struct agg_hist (programs/agg.h): log2 ns buckets (i counts [2^i, 2^(i+1)) ns, the last open-ended), sum, count.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct AggHist
{
    public const int BucketCount = 32;

    public fixed ulong Buckets[BucketCount];
    public ulong SumNs;
    public ulong Count;

    public ulong[] CopyBuckets()
    {
        var copy = new ulong[BucketCount];
        for (var i = 0; i < BucketCount; i++)
        {
            copy[i] = Buckets[i];
        }

        return copy;
    }
}

/// <summary>struct agg_pending (programs/agg.h): an exit (or syscall entry) waiting for its pair on a thread.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AggPending
{
    public ulong StartNs;
    public uint Tgid;
    public uint Field;
}

/// <summary>struct event_key (programs/kvm_exits.bpf.c): per process counts of kvm_watcher's events by kind.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmEventKey
{
    public uint Tgid;
    public uint Kind;
    public uint Sub;
}

/// <summary>The kinds of KvmEventKey, as kvm_exits.bpf.c defines them (EV_*).</summary>
internal enum KvmEventKind : uint
{
    UserspaceExit = 1,
    PageFault = 2,
    Mmio = 3,
    HaltPoll = 4,
    Wakeup = 5,
    Irq = 6,
}
