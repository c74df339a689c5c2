using System.Text;

namespace VmProbe.Procfs;

/// <summary>The cheap re-check of a QEMU's thread names in the cycle after its threads changed.</summary>
internal sealed partial class ProcessDomainDiscovery : IDiscoveryWarmUp
{
    private readonly List<VmVcpu> _vcpus = new();

    /// <summary>Re-checks of thread names alone (no cmdline, cgroups or trust check) since start (for tests and diagnostics).</summary>
    public long NameChecks { get; private set; }

    /// <summary>comm files those re-checks read: none where the task iterator's walk gave the names (for tests and diagnostics).</summary>
    public long CommFileReads { get; private set; }

    /// <summary>
    /// With its threads the same as at the last inspection, only their names can have changed since (exe, cmdline and
    /// cgroups change with an exec, which leaves one thread, or a pid reuse, which changes the threads): a thread not yet
    /// mapped as a vCPU and now named <c>CPU n/...</c> is added, as a full inspection would map it. The names come from
    /// this cycle's walk where the task iterator gave them, else from the threads' comm files.
    /// </summary>
    private void RecheckNames(KnownProcess process, ThreadListingCache? listings, ProcFs proc, int pid)
    {
        NameChecks++;
        var domain = process.Domain!;
        _vcpus.Clear();
        var found = false;
        Span<char> chars = stackalloc char[ThreadListingCache.CommBytes];
        foreach (var tid in process.Threads)
        {
            if (IsVcpu(domain.Vcpus, tid))
            {
                continue; // QEMU does not rename a vCPU thread
            }

            int index;
            if (listings is not null && listings.TryGetComm(proc, pid, tid, out var comm))
            {
                var length = Encoding.UTF8.GetChars(comm, chars);
                if (!QemuThread.TryParseVcpuIndex(chars[..length], out index))
                {
                    continue;
                }
            }
            else
            {
                CommFileReads++;
                var text = proc.ReadTaskComm(pid, tid);
                if (text is null || !QemuThread.TryParseVcpuIndex(text, out index))
                {
                    continue; // an exited thread is dropped when the listing changes
                }
            }

            if (!found)
            {
                found = true;
                _vcpus.AddRange(domain.Vcpus);
            }

            _vcpus.Add(new VmVcpu(index, tid));
        }

        if (found)
        {
            // In index order, then thread id, as the inspector orders them.
            _vcpus.Sort(static (a, b) => a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.ThreadId.CompareTo(b.ThreadId));
            process.Domain = domain.WithVcpus(_vcpus.ToArray());
        }
    }

    /// <summary>
    /// How long after an inspection <see cref="WarmUp"/> may re-read its thread names: the re-read is for a thread QEMU
    /// names just after creating it, which a listing can catch unnamed, and the next discovery comes at least one delay
    /// (100 ms or more) after the inspection. A process inspected more recently is left to that discovery.
    /// </summary>
    internal long NamingWaitMs { get; init; } = 100;

    /// <summary>
    /// The re-checks of names the next <see cref="Discover"/> would make (each QEMU first seen, or whose threads changed,
    /// at the last one), made now from the comm files: inside the first delay the first collection's discovery is then a
    /// look for changes. A process whose threads changed since is inspected again by that discovery as before.
    /// </summary>
    public void WarmUp()
    {
        var nowTicks = BootTimeTicks();
        var nowMs = Environment.TickCount64;
        foreach (var (pid, process) in _known)
        {
            if (process.Domain is not null && NamesAloneDue(process, IsYoung(process, nowTicks))
                && nowMs - process.InspectedAtMs >= NamingWaitMs)
            {
                RecheckNames(process, listings: null, _inspector.Proc, pid);
                process.InspectAgain = false; // after the re-read: one that throws leaves it to the discovery
            }
        }
    }

    /// <summary>
    /// Whether the names alone are re-read (<see cref="RecheckNames"/>) for a process whose threads are as inspected:
    /// the inspection asked for it, and the process is neither young (inspected in full each cycle) nor untrusted
    /// (checked in full again: libvirt may have rewritten a stale pid file). One rule for <see cref="Discover"/> and
    /// <see cref="WarmUp"/>.
    /// </summary>
    private static bool NamesAloneDue(KnownProcess process, bool young) =>
        process.InspectAgain && !young && process.Distrust is null;

    private static bool IsVcpu(IReadOnlyList<VmVcpu> vcpus, int tid)
    {
        foreach (var vcpu in vcpus)
        {
            if (vcpu.ThreadId == tid)
            {
                return true;
            }
        }

        return false;
    }
}
