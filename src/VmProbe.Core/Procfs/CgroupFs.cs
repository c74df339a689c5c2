namespace VmProbe.Procfs;

/// <summary>How the cgroup hierarchies are mounted under the cgroup root.</summary>
public enum CgroupLayout
{
    /// <summary>Nothing recognisable under the root.</summary>
    None,

    /// <summary>cgroup v2 only: the root itself is the unified hierarchy (<c>/sys/fs/cgroup/cgroup.controllers</c> exists).</summary>
    Unified,

    /// <summary>v1 controllers plus the unified hierarchy at <c>/sys/fs/cgroup/unified</c>.</summary>
    Hybrid,

    /// <summary>v1 controllers only (<c>/sys/fs/cgroup/cpu,cpuacct</c> and so on).</summary>
    Legacy,
}

/// <summary>
/// The cgroup file system under a root (default <c>/sys/fs/cgroup</c>; tests use a fixture tree): where a
/// /proc/PID/cgroup path lives on disk, and readers of the CPU and memory accounting files. Missing files give
/// null/false; other errors throw <see cref="ProcfsException"/>. Not thread-safe (one reusable buffer).
/// </summary>
public sealed class CgroupFs : IDisposable
{
    private readonly ProcFileReader _reader = new(8 * 1024);
    private readonly Dictionary<string, ulong> _scratch = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _v1Mounts = new(StringComparer.Ordinal);
    private CgroupLayout? _layout;

    public CgroupFs(string root = "/sys/fs/cgroup") => Root = root;

    public string Root { get; }

    public CgroupLayout Layout => _layout ??= DetectLayout(Root);

    /// <summary>The mount point of the unified (v2) hierarchy, or null on a v1-only host.</summary>
    public string? UnifiedMount => Layout switch
    {
        CgroupLayout.Unified => Root,
        CgroupLayout.Hybrid => Path.Combine(Root, "unified"),
        _ => null,
    };

    /// <summary>
    /// The mount point of the v1 hierarchy that has <paramref name="controller"/>: <c>cpu,cpuacct</c> (co-mounted, the
    /// usual systemd layout, often with a <c>cpu</c> symlink), or a directory named after the controller alone.
    /// </summary>
    public string? V1Mount(string controller)
    {
        if (_v1Mounts.TryGetValue(controller, out var cached))
        {
            return cached;
        }

        string? found = null;
        if (Layout is CgroupLayout.Hybrid or CgroupLayout.Legacy)
        {
            var direct = Path.Combine(Root, controller);
            if (Directory.Exists(direct))
            {
                found = direct;
            }
            else
            {
                foreach (var dir in Directory.EnumerateDirectories(Root))
                {
                    if (Path.GetFileName(dir).Split(',').Contains(controller, StringComparer.Ordinal))
                    {
                        found = dir;
                        break;
                    }
                }
            }
        }

        _v1Mounts[controller] = found;
        return found;
    }

    /// <summary>The directory of unified cgroup <paramref name="cgroupPath"/> (as in /proc/PID/cgroup), or null without v2.</summary>
    public string? ResolveUnified(string cgroupPath) => UnifiedMount is { } mount ? Join(mount, cgroupPath) : null;

    /// <summary>The directory of v1 cgroup <paramref name="cgroupPath"/> in <paramref name="controller"/>'s hierarchy, or null.</summary>
    public string? ResolveV1(string controller, string cgroupPath) => V1Mount(controller) is { } mount ? Join(mount, cgroupPath) : null;

    /// <summary>
    /// CPU accounting of the cgroup: v2 <c>cpu.stat</c> in <paramref name="unifiedDirectory"/> when given and present,
    /// else v1 <c>cpuacct.*</c> in <paramref name="cpuacctDirectory"/> and <c>cpu.stat</c> in <paramref name="cpuDirectory"/>.
    /// Null when none of the files exist (the cgroup went away).
    /// </summary>
    public CgroupCpuStats? ReadCpuStats(string? unifiedDirectory, string? cpuDirectory = null, string? cpuacctDirectory = null)
    {
        if (unifiedDirectory is not null)
        {
            var path = Path.Combine(unifiedDirectory, "cpu.stat");
            if (_reader.TryRead(path))
            {
                return CgroupStatParser.ParseV2CpuStat(_reader.Content, path);
            }
        }

        if (cpuDirectory is null && cpuacctDirectory is null)
        {
            return null;
        }

        byte[] usage = Array.Empty<byte>(), acct = Array.Empty<byte>(), cpu = Array.Empty<byte>();
        if (cpuacctDirectory is not null)
        {
            usage = ReadBytes(Path.Combine(cpuacctDirectory, "cpuacct.usage"));
            acct = ReadBytes(Path.Combine(cpuacctDirectory, "cpuacct.stat"));
        }

        if (cpuDirectory is not null)
        {
            cpu = ReadBytes(Path.Combine(cpuDirectory, "cpu.stat"));
        }

        if (usage.Length == 0 && acct.Length == 0 && cpu.Length == 0)
        {
            return null;
        }

        return CgroupStatParser.ParseV1(usage, acct, cpu, cpuacctDirectory ?? cpuDirectory!, ProcFs.ClockTicksPerSecond);
    }

    /// <summary>Memory in use: v2 <c>memory.current</c>, else v1 <c>memory.usage_in_bytes</c>; null when neither exists.</summary>
    public ulong? ReadMemoryUsage(string directory)
    {
        var v2 = Path.Combine(directory, "memory.current");
        if (_reader.TryRead(v2))
        {
            return CgroupStatParser.ParseSingleValue(_reader.Content, v2);
        }

        var v1 = Path.Combine(directory, "memory.usage_in_bytes");
        return _reader.TryRead(v1) ? CgroupStatParser.ParseSingleValue(_reader.Content, v1) : null;
    }

    /// <summary><c>memory.stat</c> (v1 or v2) into <paramref name="fields"/>; false when missing.</summary>
    public bool TryReadMemoryStat(string directory, IDictionary<string, ulong> fields)
    {
        var path = Path.Combine(directory, "memory.stat");
        if (!_reader.TryRead(path))
        {
            fields.Clear();
            return false;
        }

        CgroupStatParser.ParseFlatKeyed(_reader.Content, path, fields);
        return true;
    }

    /// <summary>Any flat keyed file of the cgroup into <paramref name="fields"/>; false when missing.</summary>
    public bool TryReadFlatKeyed(string filePath, IDictionary<string, ulong> fields)
    {
        if (!_reader.TryRead(filePath))
        {
            fields.Clear();
            return false;
        }

        CgroupStatParser.ParseFlatKeyed(_reader.Content, filePath, fields);
        return true;
    }

    public void Dispose() => _reader.Dispose();

    internal static string Join(string mount, string cgroupPath)
    {
        var relative = cgroupPath.TrimStart('/');
        return relative.Length == 0 ? mount : Path.Combine(mount, relative);
    }

    private static CgroupLayout DetectLayout(string root)
    {
        if (File.Exists(Path.Combine(root, "cgroup.controllers")))
        {
            return CgroupLayout.Unified;
        }

        if (Directory.Exists(Path.Combine(root, "unified")))
        {
            return CgroupLayout.Hybrid;
        }

        return Directory.Exists(root) && Directory.EnumerateDirectories(root).Any() ? CgroupLayout.Legacy : CgroupLayout.None;
    }

    private byte[] ReadBytes(string path) => _reader.TryRead(path) ? _reader.Content.ToArray() : Array.Empty<byte>();
}
