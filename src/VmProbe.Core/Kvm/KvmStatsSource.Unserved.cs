using System.Globalization;

namespace VmProbe.Kvm;

/// <summary>
/// The KVM source, part 2: what is logged about the sources. Domains no source serves from their start (every domain
/// of a host without KVM) get one summary line when new ones join that set (how many, the first few names, the one
/// reason), not one line per domain; a domain whose source changes after it was served gets its own line once.
/// </summary>
public sealed partial class KvmStatsSource
{
    private const int NamesInSummary = 5;

    private readonly List<string> _unservedNew = new();
    private readonly HashSet<int> _unservedNow = new();
    private readonly HashSet<int> _unservedReported = new();

    private void LogSource(VmDomain domain, KvmDomainState state, string source, HypervisorStatsShare? share)
    {
        var previous = state.Source;
        state.Source = source;
        if (source == "none")
        {
            _unservedNow.Add(domain.Pid);
            if (previous is null or "none")
            {
                if (!_unservedReported.Contains(domain.Pid))
                {
                    _unservedNew.Add(domain.Name);
                }

                return;
            }

            _unservedReported.Add(domain.Pid); // said on its own line below: not again in the summary
        }
        else if (previous == source)
        {
            return; // said when it became the source
        }

        LogOnce(state, "source:" + source, LogLevel.Info,
            $"kvm: domain '{domain.Name}' (QEMU pid {domain.Pid.ToString(CultureInfo.InvariantCulture)}): source {source}"
            + $"{(previous is null ? string.Empty : $" (was {previous})")}: {Why(source, state, share)}"
            + (source == "binary" ? "." : $"; looking for stats fds again every {RescanCycles} cycles when the process opened or closed fds."));
    }

    /// <summary>After a cycle: one line when domains joined the set no source serves; the set keeps only present domains.</summary>
    private void ReportUnserved(HypervisorStatsShare? share)
    {
        if (_unservedNew.Count > 0 && _log.IsEnabled(LogLevel.Info))
        {
            var names = string.Join(", ", _unservedNew.Take(NamesInSummary).Select(n => $"'{n}'"));
            var more = _unservedNew.Count > NamesInSummary ? $" and {_unservedNew.Count - NamesInSummary} more" : string.Empty;
            var inAll = _unservedNow.Count != _unservedNew.Count ? $" ({_unservedNow.Count} in all)" : string.Empty;
            _log.Write(LogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"kvm: no KVM statistics for {_unservedNew.Count} domain(s){inAll}: {names}{more}: {Why("none", null, share)}; ")
                + $"looking for stats fds again every {RescanCycles} cycles when the process opened or closed fds; said again only for domains that join this set.");
        }

        _unservedNew.Clear();
        _unservedReported.Clear();
        _unservedReported.UnionWith(_unservedNow);
        _unservedNow.Clear();
    }

    private string Why(string source, KvmDomainState? state, HypervisorStatsShare? share)
    {
        if (source == "binary")
        {
            return $"{state?.Fds.Count ?? 0} KVM stats fd(s) duplicated with pidfd_getfd";
        }

        var why = "no readable KVM stats fds (not a KVM domain, QEMU before 8.1, nobody asked QEMU for its stats yet, or a bad blob); ";
        if (source == "libvirt")
        {
            return why + "libvirt's hypervisor statistics (VIR_DOMAIN_STATS_VM)";
        }

        why += share?.VmGroupUnavailable ?? (share?.VmGroupRequested == true ? "libvirt gave no hypervisor statistics for it" : "libvirt's VM group not read");
        return why + (source == "debugfs" ? "; debugfs"
            : _debugfs.Check() is { } cause ? $"; no KVM debugfs ({cause})" : "; debugfs has no directory for its QEMU process");
    }
}
