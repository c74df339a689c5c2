using System.Diagnostics;
using VmProbe.Config;
using VmProbe.Kvm;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>A domain without stats fds is looked at again only when its process' fd count changed, or after a while anyway.</summary>
public sealed class KvmStatsRescanTests
{
    [Fact]
    public void ALookIsSkippedWhileTheFdCountStaysTheSame_AndMadeWhenItChanges()
    {
        using var child = StartSettledChild();
        try
        {
            using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", _ => false);
            var domains = new[] { new VmDomain { Name = "vmprobe-test-rescan", Pid = child.Id } };

            var cycles = 0;
            void Run(int count)
            {
                for (var i = 0; i < count; i++, cycles++)
                {
                    source.Collect(new CycleContext(domains, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None), new MetricSet());
                }
            }

            Run(1);
            Assert.Equal(1, source.FdLooks);
            Run(KvmStatsSource.RescanCycles);
            Assert.Equal(1, source.FdLooks); // due, but the same fds are open: skipped

            OpenOneMoreFd(child);
            Run(KvmStatsSource.RescanCycles);
            Assert.Equal(2, source.FdLooks); // one more fd: looked again

            // Unchanged from then on: the look is made anyway after FullRescanEvery - 1 skipped ones.
            Run(KvmStatsSource.RescanCycles * (KvmStatsSource.FullRescanEvery - 1));
            Assert.Equal(2, source.FdLooks);
            Run(KvmStatsSource.RescanCycles);
            Assert.Equal(3, source.FdLooks);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    /// <summary>
    /// A warm-up that finds no stats fds leaves the first collection its look: QEMU opens them once asked for its
    /// statistics, which the libvirt source's first bulk call does in that collection, before this source.
    /// </summary>
    [Fact]
    public void AWarmUpThatFindsNothingLeavesTheFirstCollectItsLook()
    {
        using var child = StartSettledChild();
        try
        {
            using var source = new KvmStatsSource(KvmStatsMode.Vm, Array.Empty<string>(), null, "/", _ => false);
            var context = new CycleContext(new[] { new VmDomain { Name = "vmprobe-test-warmup", Pid = child.Id } }, DateTimeOffset.UnixEpoch, NullProbeLog.Instance, CancellationToken.None);

            ((IWarmUpSource)source).WarmUp(context);
            Assert.Equal(1, source.FdLooks);

            OpenOneMoreFd(child);
            source.Collect(context, new MetricSet());
            Assert.Equal(2, source.FdLooks); // its fds changed since the warm-up: looked again at once, not 12 cycles later
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    /// <summary>A bash that opens fd 7 and execs sleep on a line of input, returned once it waits in `read` with its fds settled.</summary>
    private static Process StartSettledChild()
    {
        var psi = new ProcessStartInfo("bash", new[] { "-c", "read line; exec 7</dev/null; sleep 600" })
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        var child = Process.Start(psi)!;
        // bash opens and closes files while it starts: look only once it waits in `read` with its fds settled.
        if (!SpinWait.SpinUntil(() => WaitsWithSettledFds(child.Id), 30_000))
        {
            child.Kill();
            child.Dispose();
            Assert.Fail("the child did not settle in `read`");
        }

        return child;
    }

    /// <summary>Lets the child open fd 7; it then execs sleep, which drops bash's close-on-exec fds: returns once sleep runs with its fds settled.</summary>
    private static void OpenOneMoreFd(Process child)
    {
        child.StandardInput.WriteLine("go");
        child.StandardInput.Flush();
        Assert.True(
            SpinWait.SpinUntil(() => File.Exists($"/proc/{child.Id}/fd/7") && File.ReadAllText($"/proc/{child.Id}/comm").Trim() == "sleep" && WaitsWithSettledFds(child.Id), 30_000),
            "the child did not open fd 7 and exec sleep");
    }

    private static bool WaitsWithSettledFds(int pid)
    {
        static int Fds(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        var state = File.ReadAllText($"/proc/{pid}/stat");
        if (state[(state.LastIndexOf(')') + 2)..].StartsWith('S') is false)
        {
            return false;
        }

        var before = Fds(pid);
        Thread.Sleep(100);
        return Fds(pid) == before && File.ReadAllText($"/proc/{pid}/stat")[(state.LastIndexOf(')') + 2)..].StartsWith('S');
    }
}
