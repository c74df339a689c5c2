using System.Globalization;

namespace VmProbe.Kvm;

/// <summary>
/// KVM's debugfs statistics (<c>DEBUGFS/kvm</c>), the fallback where no stats fd can be read, read as kvm_stat reads
/// them: the top-level files are host totals, each <c>PID-FD</c> directory one VM (of QEMU process PID) whose files are
/// its statistics, vCPUs summed by the kernel. The kernel makes cumulative and peak files writable (0644, writing clears
/// them) and instant ones read-only (0444): that gives the type (peaks are the <c>max_*</c> names); a name ending in
/// <c>_ns</c> is in nanoseconds. Histogram files (<c>*_hist</c>) show only their first bucket there and are left out,
/// and so are files that are not one unsigned number (arch tables such as <c>mmu_rmaps_stat</c>).
/// </summary>
internal sealed class KvmDebugfs
{
    /// <summary>The environment variable naming the debugfs mount point (default <c>/sys/kernel/debug</c>).</summary>
    public const string EnvironmentVariable = "VMPROBE_DEBUGFS";

    public const string DefaultMountPoint = "/sys/kernel/debug";

    private readonly bool _mayMount;
    private readonly Func<string, bool>? _refused;
    private Dictionary<int, string> _vmDirectories = new();
    private bool _checked;
    private string? _unavailable;

    /// <param name="mountPoint">The debugfs mount point; default <c>$VMPROBE_DEBUGFS</c>, else <c>/sys/kernel/debug</c>,
    /// the only place debugfs is mounted by VmProbe (as root, when it is not mounted).</param>
    public KvmDebugfs(string? mountPoint = null)
    {
        var root = mountPoint ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        _mayMount = string.IsNullOrEmpty(root);
        MountPoint = _mayMount ? DefaultMountPoint : root!;
        KvmDirectory = Path.Combine(MountPoint, "kvm");
    }

    /// <summary>For tests: mount at <paramref name="mountPoint"/> when <paramref name="mayMount"/>; <paramref name="refused"/> stands in for lockdown.</summary>
    internal KvmDebugfs(string mountPoint, bool mayMount, Func<string, bool>? refused = null)
    {
        MountPoint = mountPoint;
        _mayMount = mayMount;
        _refused = refused;
        KvmDirectory = Path.Combine(MountPoint, "kvm");
    }

    public string MountPoint { get; }

    public string KvmDirectory { get; }

    public bool Exists => Directory.Exists(KvmDirectory);

    /// <summary>Whether a debugfs mount was made by <see cref="Check"/>.</summary>
    public bool MountedHere { get; private set; }

    /// <summary>Whether the kvm directory can serve: checked (and debugfs mounted where allowed) once, then whether it is still there.</summary>
    public bool Usable => Check() is null && Exists;

    /// <summary>Null when usable, else the one cause (<see cref="KvmDebugfsCheck"/>); the mount is tried once.</summary>
    public string? Check()
    {
        if (!_checked)
        {
            _checked = true;
            _unavailable = KvmDebugfsCheck.Check(MountPoint, _mayMount, out var mounted, refused: _refused);
            MountedHere = mounted;
        }

        return _unavailable;
    }

    /// <summary>Host totals: the top-level files.</summary>
    public List<KvmStatReading> ReadHost() => ReadDirectory(KvmDirectory);

    /// <summary>The statistics of the VM of QEMU process <paramref name="pid"/>, or null when debugfs has no directory for it.</summary>
    public KvmStatsSnapshot? ReadVm(int pid)
    {
        if (!_vmDirectories.TryGetValue(pid, out var directory) || !Directory.Exists(directory))
        {
            Map();
            if (!_vmDirectories.TryGetValue(pid, out directory))
            {
                return null;
            }
        }

        return new KvmStatsSnapshot(null, ReadDirectory(directory));
    }

    /// <summary>PID-FD directories by PID (the lowest FD when a process has several VMs).</summary>
    private void Map()
    {
        var map = new Dictionary<int, string>();
        try
        {
            foreach (var directory in Directory.EnumerateDirectories(KvmDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(directory);
                var dash = name.IndexOf('-');
                if (dash > 0 && int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    && int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    map.TryAdd(pid, directory);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        _vmDirectories = map;
    }

    internal static List<KvmStatReading> ReadDirectory(string directory)
    {
        var readings = new List<KvmStatReading>();
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return readings;
        }

        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith("_hist", StringComparison.Ordinal) || !KvmStatsFilter.IsValidPattern(name) || name.EndsWith('*'))
            {
                continue;
            }

            string text;
            UnixFileMode mode;
            try
            {
#pragma warning disable CA1416 // the engine runs on Linux only (procfs, perf_event, KVM)
                mode = File.GetUnixFileMode(file);
#pragma warning restore CA1416
                text = File.ReadAllText(file).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // lockdown (EPERM), a VM that went away
            }

            if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var writable = (mode & UnixFileMode.UserWrite) != 0;
            var type = !writable ? KvmStatType.Instant : name.StartsWith("max_", StringComparison.Ordinal) ? KvmStatType.Peak : KvmStatType.Cumulative;
            readings.Add(new KvmStatReading(DescriptorFromName(name, type), new[] { value }));
        }

        return readings;
    }

    /// <summary>A scalar statistic known only by name (debugfs, libvirt): a name ending in <c>_ns</c> is in nanoseconds, as kvm_stat reads it.</summary>
    internal static KvmStatDescriptor DescriptorFromName(string name, KvmStatType type)
    {
        var nanoseconds = name.EndsWith("_ns", StringComparison.Ordinal);
        return new KvmStatDescriptor(name, type, nanoseconds ? KvmStatUnit.Seconds : KvmStatUnit.None, KvmStatBase.Pow10,
            (short)(nanoseconds ? -9 : 0), 1, 0, 0);
    }
}
