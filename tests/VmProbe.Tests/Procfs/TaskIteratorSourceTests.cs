using System.Diagnostics;
using System.Globalization;
using VmProbe.Bpf;
using VmProbe.Procfs;
using VmProbe.Tests.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;
using static VmProbe.Tests.Procfs.DomainProcfsSourceTests;

namespace VmProbe.Tests.Procfs;

/// <summary>
/// The procfs source with the BPF task iterator against itself with files (#14 items 1 and 5): the same series, the
/// same values within what changes between two reads; the choice made once and logged once; files when eBPF cannot load;
/// no fd left after Dispose.
/// </summary>
[Collection("bpf")]
public class TaskIteratorSourceTests
{
    [SkippableFact]
    public void BothReadersGiveTheSameSeriesOnLiveThreadsOfThisProcess()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var parked = new ParkedThreads(2);
        var domain = new VmDomain
        {
            Name = "self iter-vm",
            Uuid = Guid.NewGuid(),
            Pid = Environment.ProcessId,
            Vcpus = parked.Tids.Select((tid, i) => new VmVcpu(i, tid)).ToArray(),
        };
        AssertSameSeries(domain);
    }

    /// <summary>A QEMU started with -S (TCG, vCPUs stopped): its vCPU threads do not run, so their series are equal.</summary>
    [SkippableFact]
    public void BothReadersGiveTheSameSeriesOnARealQemu()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        var qemu = Requirements.FindCommand("qemu-system-x86_64");
        Skip.If(qemu is null, "qemu-system-x86_64 is not installed");
        var psi = new ProcessStartInfo(qemu!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[]
        {
            "-name", "guest=vmprobe-test-iter,debug-threads=on", "-uuid", Guid.NewGuid().ToString(), "-machine", "pc", "-accel", "tcg",
            "-cpu", "qemu64", "-smp", "2", "-m", "64", "-nodefaults", "-display", "none", "-S",
        })
        {
            psi.ArgumentList.Add(a);
        }

        using var child = Process.Start(psi)!;
        try
        {
            using var discovery = new ProcessDomainDiscovery();
            VmDomain? domain = null;
            for (var attempt = 0; attempt < 300 && !child.HasExited && domain is not { Vcpus.Count: 2 }; attempt++)
            {
                domain = discovery.Discover(NullProbeLog.Instance, default).SingleOrDefault(d => d.Pid == child.Id);
                Thread.Sleep(domain is { Vcpus.Count: 2 } ? 0 : 100);
            }

            Assert.False(child.HasExited, "QEMU exited: " + (child.HasExited ? child.StandardError.ReadToEnd() : string.Empty));
            Assert.True(domain is { Vcpus.Count: 2 }, "QEMU's two vCPU threads were not discovered");
            Thread.Sleep(300); // past its start-up
            AssertSameSeries(domain!);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    /// <summary>The iterator's read stores each thread's name with the cycle's listing: the discovery's re-check of names reads no file.</summary>
    [SkippableFact]
    public void TheIteratorsListingCarriesTheThreadNames()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);
        using var parked = new ParkedThreads(2);
        using var proc = new ProcFs();
        using var source = DomainProcfsSource.WithTaskIterator();
        var shared = new CycleState();
        var listings = shared.Get<ThreadListingCache>();
        var domain = new VmDomain { Name = "self names", Pid = Environment.ProcessId };
        shared.BeginCycle();
        source.Collect(new CycleContext(new[] { domain }, DateTimeOffset.UtcNow, NullProbeLog.Instance, default) { Shared = shared }, new MetricSet());
        Skip.IfNot(source.Reader == ThreadReader.TaskIterator, "the task iterator did not load");

        foreach (var tid in parked.Tids.Append(domain.Pid))
        {
            Assert.True(listings.TryGetComm(proc, domain.Pid, tid, out var comm), $"no name for thread {tid}");
            Assert.Equal(proc.ReadTaskComm(domain.Pid, tid), System.Text.Encoding.UTF8.GetString(comm));
        }
    }

    [Fact]
    public void FallsBackToFilesOnceWhenTheIteratorCannotLoad()
    {
        var opened = 0;
        using var source = new DomainProcfsSource(openIterator: () =>
        {
            opened++;
            throw new BpfUnavailableException(BpfUnavailableReason.NotPermitted, "eBPF tracing needs root", "bpf,EPERM", ProbeErrorKind.PermissionDenied);
        });
        Assert.Equal(ThreadReader.NotChosen, source.Reader);
        var domain = new VmDomain { Name = "self", Uuid = Guid.NewGuid(), Pid = Environment.ProcessId };
        var log = new ListLog();
        var first = Collect(source, new[] { domain }, log);
        Collect(source, new[] { domain }, log);

        Assert.Equal(ThreadReader.Files, source.Reader);
        Assert.Equal(1, opened);
        Assert.Single(log.Lines, l => l.Contains("no BPF task iterator (eBPF tracing needs root)", StringComparison.Ordinal));
        Assert.True(Value(first, "domain_threads", domain.Name, domain.Uuid.ToString()) >= 1);
        Assert.True(source.KeptFdCount > 0, "the fallback does not read the files it keeps");
    }

    [Fact]
    public void OnAFixtureTreeTheRunnersFormReadsFiles()
    {
        using var source = DomainProcfsSource.WithTaskIterator(ProcfsParserTests.KvmHost);
        Assert.Equal(ThreadReader.Files, source.Reader); // a fake /proc has no kernel tasks behind it
    }

    internal static void AssertSameSeries(VmDomain domain)
    {
        var domains = new[] { domain };
        using var files = new DomainProcfsSource();
        var log = new ListLog();
        using var iterated = new DomainProcfsSource(openIterator: () => TaskIterator.Open());
        for (var attempt = 1; ; attempt++)
        {
            var before = Collect(files, domains);
            var viaIterator = Collect(iterated, domains, log);
            var after = Collect(files, domains);
            Assert.Equal(ThreadReader.TaskIterator, iterated.Reader);
            var labels = new[] { domain.Name, domain.Uuid.ToString() };
            if ((Value(before, "domain_threads", labels) != Value(after, "domain_threads", labels) || VcpusMoved(before, after)) && attempt < 10)
            {
                continue; // a thread started, exited or a vCPU thread ran between the reads: read again
            }

            var keys = Keys(before);
            Assert.Equal(keys, Keys(after));
            Assert.Equal(keys, Keys(viaIterator));
            Assert.Contains(keys, k => k.StartsWith("domain_vcpu_sched_run_seconds_total", StringComparison.Ordinal));
            var mismatch = FirstMismatch(before, viaIterator, after);
            if (mismatch is not null && attempt < 10)
            {
                continue; // a thread exited and another started between the reads (same count): its times left the sums; read again
            }

            Assert.True(mismatch is null, mismatch);
            Assert.Single(log.Lines, l => l.Contains("BPF task iterator (one read per cycle; it visits ", StringComparison.Ordinal));
            return;
        }
    }

    /// <summary>The first series the iterator read outside what procfs read just before and just after it, or null.</summary>
    private static string? FirstMismatch(MetricSet before, MetricSet viaIterator, MetricSet after)
    {
        foreach (var family in viaIterator.Families)
        {
            foreach (var sample in family.Samples)
            {
                var low = Value(before, family.Name, sample.LabelValues.ToArray());
                var high = Value(after, family.Name, sample.LabelValues.ToArray());
                var where = $"{family.Name}{{{string.Join(",", sample.LabelValues)}}}";
                // Times procfs gives in USER_HZ ticks split by cputime_adjust's scaling, which a busy process (this
                // test host runs other tests beside it) moves between reads: within two ticks; counts exactly.
                var slack = family.Name.EndsWith("_seconds_total", StringComparison.Ordinal) && !family.Name.StartsWith("domain_vcpu_", StringComparison.Ordinal)
                    ? 2.0 / ProcFs.ClockTicksPerSecond : 1e-9;
                if (sample.Value < low - slack || sample.Value > high + slack)
                {
                    return $"{where}: {sample.Value} not within [{low}, {high}] (+/- {slack})";
                }

                if (family.Name.StartsWith("domain_vcpu_", StringComparison.Ordinal) && (low != sample.Value || sample.Value != high))
                {
                    return $"{where}: a parked vCPU thread reads {low}, {sample.Value}, {high}";
                }
            }
        }

        return null;
    }

    private static bool VcpusMoved(MetricSet before, MetricSet after) =>
        Series(before, "domain_vcpu_sched_run_seconds_total").Select(s => s.Value)
            .SequenceEqual(Series(after, "domain_vcpu_sched_run_seconds_total").Select(s => s.Value)) is false;

    private static SortedSet<string> Keys(MetricSet set) =>
        new(set.Families.SelectMany(f => f.Samples.Select(s => f.Name + "{" + string.Join(",", s.LabelValues) + "}")), StringComparer.Ordinal);
}

/// <summary>The source's iterator leaves no fd (program, map, link, iterator) behind.</summary>
[Collection(ProcessWideCollection.Name)]
public class TaskIteratorSourceFdTests
{
    [SkippableFact]
    public void DisposeClosesEveryFdTheIteratorOpened()
    {
        Skip.IfNot(BpfHost.Available, BpfHost.SkipReason);

        // Handles earlier tests dropped would otherwise close under the count (finalizers), reading as fewer fds after.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var bpfBefore = BpfHost.OpenBpfFdCount();
        var fdsBefore = Requirements.OpenFdCount();
        var domain = new VmDomain { Name = "self", Uuid = Guid.NewGuid(), Pid = Environment.ProcessId };
        var source = new DomainProcfsSource(openIterator: () => TaskIterator.Open());
        try
        {
            for (var i = 0; i < 3; i++)
            {
                Collect(source, new[] { domain });
            }

            Assert.Equal(ThreadReader.TaskIterator, source.Reader);
            Assert.True(BpfHost.OpenBpfFdCount() > bpfBefore, "the loaded iterator holds no BPF fd");
            Assert.Equal(0, source.KeptFdCount); // no per-thread file is kept: one read per cycle
        }
        finally
        {
            source.Dispose();
        }

        Assert.Equal(bpfBefore, BpfHost.OpenBpfFdCount());
        Assert.Equal(fdsBefore, Requirements.OpenFdCount());
    }
}
