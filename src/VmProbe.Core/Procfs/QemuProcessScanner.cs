namespace VmProbe.Procfs;

/// <summary>
/// Finds QEMU processes without libvirt: every /proc/PID whose executable (the /proc/PID/exe target, or argv[0]
/// when that link cannot be read) is <c>qemu-system-*</c>, <c>qemu-kvm</c> or <c>kvm</c>.
/// </summary>
internal static class QemuProcessScanner
{
    /// <summary>The QEMU processes under <paramref name="root"/>/proc, in pid order; processes that exit meanwhile are skipped.</summary>
    public static IReadOnlyList<QemuProcess> Scan(string root = "/", string? cgroupRoot = null)
    {
        using var inspector = new QemuProcessInspector(root, cgroupRoot);
        return Scan(inspector);
    }

    public static IReadOnlyList<QemuProcess> Scan(QemuProcessInspector inspector)
    {
        var found = new List<QemuProcess>();
        var pids = inspector.Proc.ListProcesses();
        pids.Sort();
        foreach (var pid in pids)
        {
            if (!IsQemu(inspector.Proc, pid))
            {
                continue;
            }

            var process = inspector.Inspect(pid);
            if (process is not null)
            {
                found.Add(process);
            }
        }

        return found;
    }

    /// <summary>The running domains found by <see cref="Scan(string, string?)"/>, with Uri <c>process</c>.</summary>
    public static IReadOnlyList<VmDomain> ScanDomains(string root = "/", string? cgroupRoot = null) =>
        Scan(root, cgroupRoot).Select(p => p.ToVmDomain()).ToArray();

    /// <summary>Whether /proc/PID is a QEMU process (its exe, or argv[0] when exe is unreadable); false when gone.</summary>
    internal static bool IsQemu(ProcFs proc, int pid)
    {
        var exe = proc.ReadExecutable(pid);
        if (exe is not null)
        {
            return QemuCommandLine.IsQemuExecutable(exe);
        }

        // exe is unreadable without ptrace rights over the process, or absent in fixture trees: fall back to argv[0].
        var argv = proc.ReadCmdline(pid);
        return argv is { Length: > 0 } && QemuCommandLine.IsQemuExecutable(argv[0]);
    }
}
