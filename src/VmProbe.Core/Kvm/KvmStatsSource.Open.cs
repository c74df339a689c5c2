using VmProbe.Config;
using VmProbe.Native;

namespace VmProbe.Kvm;

/// <summary>Finding and duplicating a domain's stats fds: on the first collection's domains inside the first delay, then as a collection finds them due.</summary>
public sealed partial class KvmStatsSource
{
    /// <summary>Finds and opens the stats fds of <paramref name="context"/>'s domains (the first collection then reads them).</summary>
    void IWarmUpSource.WarmUp(CycleContext context)
    {
        if (_mode == KvmStatsMode.Off)
        {
            return;
        }

        _ = _debugfs.Check(); // once: mounts, lockdown, the kvm directory
        foreach (var domain in context.Domains)
        {
            if (domain.Pid > 0 && EnsureOpen(context, domain) is { Fds.Count: 0 } state)
            {
                // None yet: the first collection looks again, since QEMU opens them once asked for its statistics, which
                // the libvirt source's first bulk call does (a process whose fd count stands still costs one stat).
                state.CyclesUntilRescan = 0;
            }
        }
    }

    /// <summary>The domain's state, its stats fds looked for when it has none and a look is due.</summary>
    private KvmDomainState EnsureOpen(CycleContext context, VmDomain domain)
    {
        var state = StateOf(domain.Pid, out var isNew);
        if (state.Fds.Count == 0 && state.CyclesUntilRescan-- <= 0)
        {
            state.CyclesUntilRescan = RescanCycles - 1;
            // A pid reused by another process shows as a changed fd count too: its start time is read only then (a
            // state made this cycle has just read it).
            if (!FdsUnchanged(domain.Pid, state))
            {
                if (!isNew && ProcessChanged(domain.Pid, state))
                {
                    state = StateOf(domain.Pid, out _);
                    state.CyclesUntilRescan = RescanCycles - 1;
                }

                Open(context, domain, state);
            }
        }

        return state;
    }

    private void Open(CycleContext context, VmDomain domain, KvmDomainState state)
    {
        if (_pidFdUnavailable)
        {
            return;
        }

        FdLooks++;
        var links = KvmStatsFd.Find(_procRoot, domain.Pid, _isStatsLink);
        if (links.Count == 0 || links.Any(state.Bad.Contains))
        {
            return; // none, or one broke the layout: the domain is served by another source while this process lives
        }

        if (!FdLimits.Fits(links.Count))
        {
            LogOnce(state, "fdbudget", LogLevel.Warning,
                $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid}): its {links.Count} KVM stats fds do not fit under RLIMIT_NOFILE with the perf and kept procfs fds; served by another source.");
            return;
        }

        SafeFdHandle pidFd;
        try
        {
            pidFd = KvmStatsFd.OpenPid(domain.Pid);
        }
        catch (EntryPointNotFoundException)
        {
            _pidFdUnavailable = true;
            LogOnce("nopidfd", LogLevel.Warning, "kvm: this C library has no pidfd_open/pidfd_getfd (glibc 2.36+ needed): KVM stats fds cannot be read.");
            return;
        }
        catch (KvmStatsException ex)
        {
            Report(context, domain, state, ex);
            return;
        }

        using (pidFd)
        {
            foreach (var link in links)
            {
                try
                {
                    var fd = KvmStatsFd.Duplicate(pidFd, domain.Pid, link);
                    state.Fds.Add(fd);
                    if (_allow is not null)
                    {
                        fd.KeepOnly(_allow);
                    }
                }
                catch (KvmStatsException ex)
                {
                    if (ex.ErrorId.StartsWith("kvm_stats_", StringComparison.Ordinal))
                    {
                        MarkBad(context, domain, state, link, ex);
                    }
                    else
                    {
                        Report(context, domain, state, ex); // pidfd_getfd: permissions or a closed fd, looked at again at the next rescan
                    }

                    state.CloseFds();
                    return;
                }
            }
        }

        foreach (var skipped in state.Fds.Select(f => f.Layout.Skipped).Where(s => s.Count > 0))
        {
            LogOnce("skipped:" + string.Join(",", skipped), LogLevel.Info,
                $"kvm: statistics this probe does not know are left out: {string.Join(", ", skipped)}.");
        }
    }
}
