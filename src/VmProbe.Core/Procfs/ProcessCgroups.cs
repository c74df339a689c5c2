namespace VmProbe.Procfs;

/// <summary>One line of /proc/PID/cgroup: <c>hierarchy-ID:controller-list:path</c> (v2: <c>0::/path</c>).</summary>
internal sealed record CgroupMembership(int HierarchyId, IReadOnlyList<string> Controllers, string Path);

/// <summary>The cgroups a process belongs to, from /proc/PID/cgroup.</summary>
internal sealed class ProcessCgroups
{
    public ProcessCgroups(IReadOnlyList<CgroupMembership> entries) => Entries = entries;

    public IReadOnlyList<CgroupMembership> Entries { get; }

    /// <summary>The cgroup v2 (unified) path, the <c>0::</c> line; null on a v1-only host.</summary>
    public string? UnifiedPath => Entries.FirstOrDefault(e => e.HierarchyId == 0 && e.Controllers.Count == 0)?.Path;

    /// <summary>The v1 path of the hierarchy that has <paramref name="controller"/> (for example <c>cpu</c>, <c>cpuacct</c>, <c>memory</c>).</summary>
    public string? V1Path(string controller) =>
        Entries.FirstOrDefault(e => e.HierarchyId != 0 && e.Controllers.Contains(controller, StringComparer.Ordinal))?.Path;

    public static ProcessCgroups Parse(ReadOnlySpan<byte> content, string path)
    {
        var entries = new List<CgroupMembership>(12);
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            if (line.IsEmpty)
            {
                continue;
            }

            var first = line.IndexOf((byte)':');
            var second = first < 0 ? -1 : line[(first + 1)..].IndexOf((byte)':');
            if (first <= 0 || second < 0)
            {
                throw ProcfsException.Parse(path, $"line '{System.Text.Encoding.UTF8.GetString(line)}' is not 'id:controllers:path'");
            }

            var id = (int)ProcText.ParseUInt64(line[..first], path, "hierarchy-ID");
            var controllerList = line.Slice(first + 1, second);
            var cgroupPath = System.Text.Encoding.UTF8.GetString(line[(first + second + 2)..]);
            var controllers = controllerList.IsEmpty
                ? Array.Empty<string>()
                : System.Text.Encoding.ASCII.GetString(controllerList).Split(',');
            entries.Add(new CgroupMembership(id, controllers, cgroupPath));
        }

        return new ProcessCgroups(entries);
    }
}
