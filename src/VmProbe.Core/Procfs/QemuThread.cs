namespace VmProbe.Procfs;

internal enum QemuThreadKind
{
    /// <summary>The main (emulator) thread: tid == pid.</summary>
    Main,

    /// <summary>A vCPU thread, comm <c>CPU N/KVM</c> (or <c>/TCG</c>, <c>/HVF</c>...) with debug-threads=on.</summary>
    Vcpu,

    /// <summary>An I/O thread (<c>IO iothread1</c>, <c>IO mon_iothread</c>).</summary>
    IoThread,

    /// <summary>Workers, call_rcu, vnc, SPICE and the rest of the emulator threads.</summary>
    Other,
}

/// <summary>One thread of a QEMU process. <see cref="VcpuIndex"/> is -1 unless <see cref="Kind"/> is Vcpu.</summary>
internal sealed record QemuThread(int ThreadId, string Comm, QemuThreadKind Kind, int VcpuIndex)
{
    /// <summary>Classifies a thread by the name QEMU gives it when started with <c>-name ...,debug-threads=on</c>.</summary>
    public static QemuThread Classify(int pid, int tid, string comm)
    {
        if (TryParseVcpuIndex(comm, out var index))
        {
            return new QemuThread(tid, comm, QemuThreadKind.Vcpu, index);
        }

        var kind = tid == pid ? QemuThreadKind.Main
            : comm.StartsWith("IO ", StringComparison.Ordinal) ? QemuThreadKind.IoThread
            : QemuThreadKind.Other;
        return new QemuThread(tid, comm, kind, -1);
    }

    /// <summary>Parses <c>CPU N/ACCEL</c> (ACCEL = KVM, TCG, HVF, WHPX, NVMM...; letters only) into N.</summary>
    public static bool TryParseVcpuIndex(ReadOnlySpan<char> comm, out int index)
    {
        index = -1;
        if (!comm.StartsWith("CPU ", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = comm[4..];
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return false;
        }

        foreach (var c in rest[(slash + 1)..])
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        var digits = rest[..slash];
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }
}
