using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A scratch cgroup v2 directory holding one child process that spins a CPU, for tests that count a cgroup's events.
/// Creating it skips the test (with the reason) where cgroup v2 is not mounted or not writable; Dispose kills the
/// child and removes the directory.
/// </summary>
public sealed class BusyCgroupV2 : IDisposable
{
    private readonly Process _child;

    private BusyCgroupV2(string directory, Process child)
    {
        Directory = directory;
        _child = child;
    }

    /// <summary>The cgroup directory (under /sys/fs/cgroup/unified on hybrid hosts, /sys/fs/cgroup on v2-only ones).</summary>
    public string Directory { get; }

    public int ChildPid => _child.Id;

    /// <summary>The v1 hierarchy perf_event is bound to, or null when it is on cgroup v2 (hierarchy 0).</summary>
    public static int? PerfEventV1Hierarchy()
    {
        foreach (var line in File.ReadLines("/proc/cgroups"))
        {
            var fields = line.Split('\t');
            if (fields.Length >= 2 && fields[0] == "perf_event" && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return id == 0 ? null : id;
            }
        }

        return null;
    }

    public static BusyCgroupV2 Create(string label)
    {
        var root = File.Exists("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified"
            : File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : null;
        Skip.If(root is null, "cgroup v2 is not mounted (/sys/fs/cgroup/unified or /sys/fs/cgroup)");
        var hierarchy = PerfEventV1Hierarchy();
        Skip.If(hierarchy is not null,
            $"perf_event is bound to a cgroup v1 hierarchy (id {hierarchy} in /proc/cgroups), so perf cannot count a v2 cgroup here (a v1 perf_event mount left behind)");
        var dir = Path.Combine(root!, $"vmprobe-{label}-{Environment.ProcessId}");
        try
        {
            System.IO.Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            Skip.If(true, $"cannot create a cgroup under {root}: {ex.Message}");
        }

        var child = Process.Start(new ProcessStartInfo("/bin/sh", "-c \"while :; do :; done\"") { UseShellExecute = false })!;
        var cgroup = new BusyCgroupV2(dir, child);
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), child.Id.ToString(CultureInfo.InvariantCulture));
            return cgroup;
        }
        catch
        {
            cgroup.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _child.Kill();
        _child.WaitForExit();
        _child.Dispose();

        // The kernel lets go of an emptied cgroup a moment after its last process exits.
        for (var i = 0; i < 50 && System.IO.Directory.Exists(Directory); i++)
        {
            try
            {
                System.IO.Directory.Delete(Directory);
            }
            catch (IOException)
            {
                Thread.Sleep(20);
            }
        }
    }
}
