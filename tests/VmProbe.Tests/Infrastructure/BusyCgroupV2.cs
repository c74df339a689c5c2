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

    public static BusyCgroupV2 Create(string label)
    {
        var root = File.Exists("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified"
            : File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : null;
        Skip.If(root is null, "cgroup v2 is not mounted (/sys/fs/cgroup/unified or /sys/fs/cgroup)");
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
