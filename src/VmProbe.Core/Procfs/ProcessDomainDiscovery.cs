using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Domain discovery without libvirt (source name <c>process</c>): every QEMU process under /proc, named and identified
/// from its command line (<c>-name guest=...</c>, <c>-uuid</c>), with Uri <c>process</c>.
/// </summary>
/// <remarks>
/// Where the procfs source's BPF task iterator serves the cycle (<see cref="IBulkProcessLister"/>), /proc is not listed:
/// the iterator's walk gives the known QEMUs' threads (one with none is gone) and the other processes whose executable
/// the kernel found named like QEMU, which are checked as a new listed pid is (<see cref="FindInWalk"/>). Else, and in the
/// first cycle, the /proc scan is cached across cycles so that a host with hundreds of processes costs one listing of
/// /proc per cycle: a pid is inspected (exe, and for QEMU cmdline, threads, cgroups) when it first appears; a pid that is not QEMU is not
/// looked at again, except while it is young (a process that forks and only then execs QEMU, as libvirt does, is
/// re-checked each cycle during its first <see cref="YoungSeconds"/> seconds); a QEMU process is re-inspected only when
/// its /proc/PID/task listing changed (threads came or went, or the pid was reused) and while it is young; the cycle after
/// a change re-reads only its thread names (a thread may be listed before QEMU names it <c>CPU n/KVM</c>: see
/// <see cref="RecheckNames"/>). Vanished pids are dropped.
/// <para>
/// Only a QEMU the host's virtualization stack started is taken for a VM (<see cref="QemuTrust"/>: run as root or
/// libvirt's QEMU user, from a root-owned QEMU binary nobody else can write, agreeing with libvirt's pid file when there
/// is one); any other process is ignored, logged once. When two processes claim one name or uuid, one wins — a trusted
/// one over an untrusted one, then the one libvirt's pid files name, then the older — and each loser is logged once and
/// counted in <see cref="Conflicts"/> (<c>probe_discovery_conflicts_total</c>). The check reads the live files: a
/// fixture root other than <c>/</c> gets no trust check unless one is passed.
/// </para>
/// </remarks>
internal sealed partial class ProcessDomainDiscovery : IDomainDiscovery, ISharesCycleState, IDiscoveryConflicts, IDisposable
{
    public const string SourceName = "process";

    /// <summary>Age under which a non-QEMU process is re-checked every cycle (it may still exec QEMU).</summary>
    public const int YoungSeconds = 10;

    private readonly QemuProcessInspector _inspector;
    private readonly Dictionary<int, KnownProcess> _known = new();
    private readonly List<int> _pids = new(512);
    private readonly List<int> _tracked = new();
    private readonly List<ListedProcess> _listed = new();
    private readonly List<int> _tids = new(64);
    private readonly List<int> _qemuPids = new();
    private readonly List<int> _gone = new();
    private readonly List<VmDomain> _domains = new();
    private readonly List<KnownProcess> _candidates = new();
    private readonly List<KnownProcess> _ranked = new();
    private readonly Dictionary<string, KnownProcess> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, KnownProcess> _byUuid = new();
    private readonly QemuTrust? _trust;
    private long _cycle;
    private bool _walked;

    public ProcessDomainDiscovery(string root = "/", string? cgroupRoot = null, QemuTrust? trust = null)
    {
        _inspector = new QemuProcessInspector(root, cgroupRoot);
        _trust = trust ?? (Path.GetFullPath(root) == "/" ? new QemuTrust() : null);
    }

    /// <inheritdoc/>
    public long Conflicts { get; private set; }

    public string Name => SourceName;

    /// <inheritdoc/>
    public CycleState? Shared { get; set; }

    /// <summary>Processes whose verdict is cached (for tests and diagnostics).</summary>
    public int KnownProcessCount => _known.Count;

    /// <summary>Cycles whose processes came from the task iterator's walk, not a /proc listing (for tests and diagnostics).</summary>
    public long WalkCycles { get; private set; }

    /// <summary>Full inspections (cmdline, threads, cgroups) done since start (for tests and diagnostics).</summary>
    public long Inspections { get; private set; }

    public IReadOnlyList<VmDomain> Discover(IProbeLog log, CancellationToken cancellationToken)
    {
        var cycle = ++_cycle;
        var proc = _inspector.Proc;
        _domains.Clear();
        _qemuPids.Clear();
        var nowTicks = BootTimeTicks();
        var listings = Shared?.Get<ThreadListingCache>();
        _inspector.CpuHints = Shared?.Get<ThreadCpuHints>();
        var walked = listings is not null && FindInWalk(listings, proc, cycle);
        if (walked != _walked)
        {
            // Said once at Info; later switches (a walk that could not name an executable) at Debug.
            Write(log, walked && WalkCycles == 0 ? LogLevel.Info : LogLevel.Debug, walked
                ? "process discovery: processes from the BPF task iterator's walk (no /proc listing per cycle)"
                : "process discovery: listing /proc this cycle");
            _walked = walked;
        }

        if (walked)
        {
            WalkCycles++;
        }
        else
        {
            FindInListing(proc, cycle, nowTicks);

            // Every QEMU's threads in one read where the task iterator serves the cycle; else one listing per process.
            listings?.Prefetch(proc, _qemuPids);
        }

        foreach (var pid in _qemuPids)
        {
            var process = _known[pid];
            if (!(listings?.TryList(proc, pid, _tids) ?? proc.TryListThreads(pid, _tids)))
            {
                process.SeenCycle = 0; // gone since the listing
                continue;
            }

            _tids.Sort();
            var changed = process.Domain is null || !process.Threads.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(_tids));

            // QEMU names a thread (CPU n/KVM) just after creating it: a listing can catch a new thread under its parent's
            // name, so a young process is inspected again, and the cycle after a change re-reads the names alone; but
            // not for a process found untrusted, whose trust is checked again (libvirt may have rewritten a stale pid file).
            var young = IsYoung(process, nowTicks);
            if (!changed && NamesAloneDue(process, young))
            {
                process.InspectAgain = false;
                RecheckNames(process, listings, proc, pid);
            }
            else if (changed || process.InspectAgain || young)
            {
                process.InspectAgain = changed;
                process.InspectedAtMs = Environment.TickCount64;
                // Threads changed: the pid may also have been reused by another program.
                if (process.Domain is not null && !QemuProcessScanner.IsQemu(proc, pid))
                {
                    process.IsQemu = false;
                    process.Domain = null;
                    process.Threads = Array.Empty<int>();
                    continue;
                }

                Inspections++;
                var inspected = _inspector.Inspect(pid);
                var domain = inspected?.ToVmDomain();
                var distrust = domain is null ? null : _trust?.Check(proc.ProcDirectory, pid, domain.Name);
                if (domain?.Name != process.Domain?.Name || domain?.Uuid != process.Domain?.Uuid || distrust != process.Distrust)
                {
                    process.Reported = false; // a new claim: report it again if it is refused
                }

                process.Domain = domain;
                process.Pid = pid;
                process.Distrust = distrust;
                process.Threads = process.Domain is null ? Array.Empty<int>() : _tids.ToArray();
            }

            if (process.Domain is not null)
            {
                _candidates.Add(process);
            }
        }

        Resolve(log);

        foreach (var (pid, process) in _known)
        {
            if (process.SeenCycle != cycle)
            {
                _gone.Add(pid);
            }
        }

        foreach (var pid in _gone)
        {
            _known.Remove(pid);
        }

        _gone.Clear();
        return _domains.ToArray();
    }

    /// <summary>Trusted processes first (libvirt's pid files, then the oldest, win a name or uuid); untrusted ones never count.</summary>
    private void Resolve(IProbeLog log)
    {
        _byName.Clear();
        _byUuid.Clear();
        _ranked.Clear();
        _ranked.AddRange(_candidates);
        if (HasRivals())
        {
            // Ranked only when two processes claim one name or uuid (rare); libvirt's pid files are read once for it.
            var libvirtPids = _trust?.LibvirtPids() ?? new HashSet<int>();
            _ranked.Sort((a, b) =>
            {
                var byTrust = (a.Distrust is null ? 0 : 1).CompareTo(b.Distrust is null ? 0 : 1);
                if (byTrust != 0)
                {
                    return byTrust;
                }

                var byLibvirt = libvirtPids.Contains(b.Pid).CompareTo(libvirtPids.Contains(a.Pid));
                return byLibvirt != 0 ? byLibvirt : a.StartTicks != b.StartTicks ? a.StartTicks.CompareTo(b.StartTicks) : a.Pid.CompareTo(b.Pid);
            });
        }

        foreach (var process in _ranked)
        {
            process.Won = false;
            var domain = process.Domain!;
            var rival = _byName.GetValueOrDefault(domain.Name) ?? (domain.Uuid != Guid.Empty ? _byUuid.GetValueOrDefault(domain.Uuid) : null);
            if (rival is not null)
            {
                if (!process.Reported)
                {
                    process.Reported = true;
                    Conflicts++;
                    Write(log, LogLevel.Warning,
                        $"process discovery: pid {process.Pid} claims domain '{domain.Name}' (uuid {domain.Uuid}) already held by pid {rival.Pid}; "
                        + $"pid {rival.Pid} is kept{(process.Distrust is null ? string.Empty : $" (pid {process.Pid} is not trusted: {process.Distrust})")}");
                }

                continue;
            }

            if (process.Distrust is not null)
            {
                if (!process.Reported)
                {
                    process.Reported = true;
                    Write(log, LogLevel.Warning,
                        $"process discovery: pid {process.Pid} looks like QEMU for '{domain.Name}' but is ignored: {process.Distrust}");
                }

                continue;
            }

            _byName[domain.Name] = process;
            if (domain.Uuid != Guid.Empty)
            {
                _byUuid[domain.Uuid] = process;
            }

            process.Won = true;
        }

        // In pid order, as listed.
        foreach (var process in _candidates)
        {
            if (process.Won)
            {
                _domains.Add(process.Domain!);
            }
        }

        _candidates.Clear();
        _ranked.Clear();
    }

    private bool HasRivals()
    {
        foreach (var process in _ranked)
        {
            var domain = process.Domain!;
            if (!_byName.TryAdd(domain.Name, process) || (domain.Uuid != Guid.Empty && !_byUuid.TryAdd(domain.Uuid, process)))
            {
                _byName.Clear();
                _byUuid.Clear();
                return true;
            }
        }

        _byName.Clear();
        _byUuid.Clear();
        return false;
    }

    private static void Write(IProbeLog log, LogLevel level, string message)
    {
        if (log.IsEnabled(level))
        {
            log.Write(level, message);
        }
    }

    public void Dispose() => _inspector.Dispose();

    private static bool IsYoung(KnownProcess process, ulong nowTicks) =>
        process.StartTicks != 0 && nowTicks >= process.StartTicks
        && nowTicks - process.StartTicks < (ulong)(YoungSeconds * ProcFs.ClockTicksPerSecond);

    /// <summary>Now in the unit of /proc/PID/stat starttime: USER_HZ ticks since boot (CLOCK_BOOTTIME).</summary>
    private static unsafe ulong BootTimeTicks()
    {
        Interop.Libc.TimeSpec now;
        if (Interop.Libc.ClockGetTime(Interop.Libc.ClockBootTime, &now) != 0)
        {
            return 0;
        }

        return (ulong)((now.Seconds + (now.Nanoseconds / 1e9)) * ProcFs.ClockTicksPerSecond);
    }

    /// <summary>What is known of one pid: its start time, whether it is QEMU, and for QEMU the threads and domain last inspected.</summary>
    private sealed class KnownProcess
    {
        public ulong StartTicks;
        public bool IsQemu;
        public int[] Threads = Array.Empty<int>();
        public VmDomain? Domain;
        public long SeenCycle;

        /// <summary>Its threads changed at the last inspection: their names are re-read next cycle (<see cref="RecheckNames"/>).</summary>
        public bool InspectAgain;

        /// <summary>When it was last inspected (<see cref="Environment.TickCount64"/>): the warm-up's re-read waits for names.</summary>
        public long InspectedAtMs;
        public int Pid;

        /// <summary>The walk named it a candidate and its exe was checked (a refusal is kept while pid and start time hold).</summary>
        public bool CandidateChecked;

        /// <summary>Why the process is not trusted to be a VM (<see cref="QemuTrust"/>), or null.</summary>
        public string? Distrust;

        /// <summary>Its refusal (untrusted or conflicting) was logged.</summary>
        public bool Reported;

        /// <summary>It holds its name and uuid this cycle.</summary>
        public bool Won;
    }
}
