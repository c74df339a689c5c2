namespace VmProbe.Procfs;

/// <summary>How the cgroup hierarchies are mounted under the cgroup root.</summary>
internal enum CgroupLayout
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
/// /proc/PID/cgroup path lives on disk. Not thread-safe (caches the layout and v1 mounts).
/// </summary>
internal sealed class CgroupFs : IDisposable
{
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

    /// <summary>Nothing to release (kept so that callers may hold it in a using).</summary>
    public void Dispose()
    {
    }

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
}
