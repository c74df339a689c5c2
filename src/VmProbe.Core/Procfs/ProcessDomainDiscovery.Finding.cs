using System.Runtime.InteropServices;

namespace VmProbe.Procfs;

/// <summary>How a cycle finds its QEMU processes: the task iterator's walk where it serves, else the /proc listing.</summary>
internal sealed partial class ProcessDomainDiscovery
{
    /// <summary>The /proc listing: every pid; a new or young one whose verdict is not known is checked (its exe).</summary>
    private void FindInListing(ProcFs proc, long cycle, ulong nowTicks)
    {
        proc.ListProcesses(_pids);
        _pids.Sort();
        foreach (var pid in _pids)
        {
            ref var known = ref CollectionsMarshal.GetValueRefOrAddDefault(_known, pid, out var existed);
            if (!existed)
            {
                known = new KnownProcess { StartTicks = proc.TryReadProcessStat(pid, out var stat) ? stat.StartTimeTicks : 0 };
            }

            var process = known!;
            process.SeenCycle = cycle;
            if (!process.IsQemu)
            {
                if (existed && !IsYoung(process, nowTicks))
                {
                    continue;
                }

                if (!QemuProcessScanner.IsQemu(proc, pid))
                {
                    continue;
                }

                process.IsQemu = true;
            }

            _qemuPids.Add(pid);
        }
    }

    /// <summary>
    /// The task iterator's walk instead of the listing: the QEMUs known so far, by their threads (one with none is
    /// gone), and the processes the kernel found named like QEMU, each checked as a new listed pid is. No young re-check:
    /// the kernel checks the executables again after an exec of a program named like QEMU (and now and then), so one
    /// that execs QEMU later is a candidate then (Bpf/TaskWalk).
    /// </summary>
    private bool FindInWalk(ThreadListingCache listings, ProcFs proc, long cycle)
    {
        _tracked.Clear();
        foreach (var (pid, process) in _known)
        {
            if (process.IsQemu)
            {
                _tracked.Add(pid);
            }
        }

        if (!listings.TryListProcesses(proc, _tracked, _listed))
        {
            return false;
        }

        var added = false;
        foreach (var listed in _listed)
        {
            ref var known = ref CollectionsMarshal.GetValueRefOrAddDefault(_known, listed.Pid, out var existed);
            if (existed && listed.StartTicks != 0 && known!.StartTicks != 0 && listed.StartTicks != known.StartTicks)
            {
                existed = false; // the pid was reused: another process
            }

            if (!existed)
            {
                known = new KnownProcess { StartTicks = listed.StartTicks };
            }

            var process = known!;
            process.SeenCycle = cycle;
            if (!process.IsQemu)
            {
                // Checked once per pid and start time: a candidate the full check refused stays refused.
                if (process.CandidateChecked)
                {
                    continue;
                }

                process.CandidateChecked = true;
                if (!QemuProcessScanner.IsQemu(proc, listed.Pid))
                {
                    continue;
                }

                process.IsQemu = true;
                added = true;
            }

            _qemuPids.Add(listed.Pid);
        }

        if (added)
        {
            // The new QEMUs' threads: a second walk with them in the map, only in a cycle that found one.
            listings.Prefetch(proc, _qemuPids);
        }

        return true;
    }
}
