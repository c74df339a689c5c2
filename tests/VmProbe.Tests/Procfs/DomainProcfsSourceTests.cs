using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Procfs;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <remarks>Live tests sample this test process as a domain, so no other test may start or end threads meanwhile.</remarks>
[Collection(ProcessWideCollection.Name)]
public class DomainProcfsSourceTests
{
    private static readonly Guid WebUuid = Guid.Parse("3f0b6a52-6b3e-4d2c-9a3f-2f1d7e0b9c11");

    internal sealed class ListLog : IProbeLog
    {
        public List<string> Lines { get; } = new();

        public bool IsEnabled(LogLevel level) => true;

        public void Write(LogLevel level, string message)
        {
            lock (Lines)
            {
                Lines.Add($"{level}: {message}");
            }
        }
    }

    internal static MetricSet Collect(IMetricSource source, IReadOnlyList<VmDomain> domains, IProbeLog? log = null, MetricSet? set = null)
    {
        set ??= new MetricSet();
        set.Reset();
        source.Collect(new CycleContext(domains, DateTimeOffset.UtcNow, log ?? new ListLog(), default), set);
        return set;
    }

    internal static double Value(MetricSet set, string family, params string[] labels)
    {
        Assert.True(set.TryGet(family, out var f), $"family {family} missing");
        var matches = f.Samples.Where(s => s.LabelValues.SequenceEqual(labels)).ToList();
        Assert.True(matches.Count == 1, $"{family}{{{string.Join(",", labels)}}}: {matches.Count} series, expected 1");
        return matches[0].Value;
    }

    internal static IEnumerable<MetricSample> Series(MetricSet set, string family) =>
        set.TryGet(family, out var f) ? f.Samples : Enumerable.Empty<MetricSample>();

    /// <summary>A writable copy of the kvmhost process tree (processes 4242 and 5353), for tests that make threads exit.</summary>
    internal static string CopyKvmHostProcesses()
    {
        var target = Directory.CreateTempSubdirectory("vmprobe-domproc-").FullName;
        foreach (var pid in new[] { "4242", "5353" })
        {
            var source = Path.Combine(ProcfsParserTests.KvmHost, "proc", pid);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var dest = Path.Combine(target, "proc", pid, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(file, dest);
            }
        }

        return target;
    }

    internal static IReadOnlyList<VmDomain> FixtureDomains(string root)
    {
        using var discovery = new ProcessDomainDiscovery(root, ProcfsFixtures.CgroupTree);
        return discovery.Discover(NullProbeLog.Instance, default);
    }

    [Fact]
    public void Fixture_DomainAndVcpuSeries_SumAllThreads()
    {
        using var source = new DomainProcfsSource(ProcfsParserTests.KvmHost);
        var domains = FixtureDomains(ProcfsParserTests.KvmHost);
        Assert.Equal(new[] { "web-01", "db.prod \"eu\",main" }, domains.Select(d => d.Name));
        var set = Collect(source, domains);

        var web = new[] { "web-01", WebUuid.ToString() };
        Assert.Equal((40211000000.0 + 1211000000 + 930112000000 + 911007000000 + 2000000) / 1e9, Value(set, "domain_sched_run_seconds_total", web), 9);
        Assert.Equal((1020000000.0 + 33000000 + 21200000000 + 19050000000 + 100000) / 1e9, Value(set, "domain_sched_wait_seconds_total", web), 9);
        Assert.Equal(92113.0 + 20011 + 4401223 + 4311001 + 12, Value(set, "domain_sched_timeslices_total", web));
        Assert.Equal(2101220.0 + 230 + 1201 + 1189 + 11, Value(set, "domain_minor_page_faults_total", web));
        Assert.Equal(117.0, Value(set, "domain_major_page_faults_total", web));
        Assert.Equal((35120.0 + 34100) / ProcFs.ClockTicksPerSecond, Value(set, "domain_cpu_guest_seconds_total", web), 9);
        Assert.Equal(5.0, Value(set, "domain_threads", web));

        Assert.Equal(21.2, Value(set, "domain_vcpu_sched_wait_seconds_total", "web-01", WebUuid.ToString(), "0"), 9);
        Assert.Equal(19.05, Value(set, "domain_vcpu_sched_wait_seconds_total", "web-01", WebUuid.ToString(), "1"), 9);
        Assert.Equal(911.007, Value(set, "domain_vcpu_sched_run_seconds_total", "web-01", WebUuid.ToString(), "1"), 9);
        Assert.Equal(4401223.0, Value(set, "domain_vcpu_sched_timeslices_total", "web-01", WebUuid.ToString(), "0"));

        // The name with dots, spaces, quotes and an escaped comma arrives verbatim as the label value.
        var db = domains[1];
        Assert.Equal(3.0, Value(set, "domain_threads", db.Name, db.Uuid == Guid.Empty ? string.Empty : db.Uuid.ToString()));
        Assert.Single(Series(set, "domain_vcpu_sched_run_seconds_total"), s => s.LabelValues[0] == db.Name);

        Assert.All(set.Families, f => Assert.Contains("domain", f.LabelNames));
        Assert.All(set.Families.Where(f => f.Name.StartsWith("domain_vcpu_", StringComparison.Ordinal)), f => Assert.Equal(new[] { "domain", "uuid", "vcpu" }, f.LabelNames));
        Assert.All(set.Families.Where(f => !f.Name.StartsWith("domain_vcpu_", StringComparison.Ordinal)), f => Assert.Equal(new[] { "domain", "uuid" }, f.LabelNames));
    }

    [Fact]
    public void ThreadExit_DomainCountersKeepTheExitedThreadsTime()
    {
        var root = CopyKvmHostProcesses();
        try
        {
            using var source = new DomainProcfsSource(root);
            var domains = FixtureDomains(root);
            var web = new[] { "web-01", WebUuid.ToString() };
            var set = Collect(source, domains);
            var run1 = Value(set, "domain_sched_run_seconds_total", web);
            var minor1 = Value(set, "domain_minor_page_faults_total", web);

            // The worker thread (2 ms run, 11 minor faults) exits; the I/O thread ran 1 s more meanwhile.
            Directory.Delete(Path.Combine(root, "proc", "4242", "task", "4260"), recursive: true);
            File.WriteAllText(Path.Combine(root, "proc", "4242", "task", "4250", "schedstat"), "2211000000 33000000 20012\n");
            set = Collect(source, domains, set: set);
            Assert.Equal(run1 + 1.0, Value(set, "domain_sched_run_seconds_total", web), 9);
            Assert.Equal(minor1, Value(set, "domain_minor_page_faults_total", web));
            Assert.Equal(4.0, Value(set, "domain_threads", web));
            Assert.True(source.TryGetRetired(domains[0], out var retired));
            Assert.Equal(2000000UL, retired.RunNanoseconds);
            Assert.Equal(11UL, retired.MinorFaults);

            // Unchanged files: the same values again, the exited thread counted once only.
            set = Collect(source, domains, set: set);
            Assert.Equal(run1 + 1.0, Value(set, "domain_sched_run_seconds_total", web), 9);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ThreadIdReused_OldThreadRetired_NewThreadAdded()
    {
        var root = CopyKvmHostProcesses();
        try
        {
            using var source = new DomainProcfsSource(root);
            var domains = FixtureDomains(root);
            var web = new[] { "web-01", WebUuid.ToString() };
            var set = Collect(source, domains);
            var run1 = Value(set, "domain_sched_run_seconds_total", web);

            // Between two cycles worker 4260 exited and a new thread got the same id (later start time, fewer counts).
            var task = Path.Combine(root, "proc", "4242", "task", "4260");
            File.WriteAllText(Path.Combine(task, "schedstat"), "500000 0 1\n");
            var stat = File.ReadAllText(Path.Combine(task, "stat")).Replace(" 5 0 31881 ", " 5 0 99999 ", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(task, "stat"), stat);
            set = Collect(source, domains, set: set);
            Assert.Equal(run1 + 0.0005, Value(set, "domain_sched_run_seconds_total", web), 9);
            Assert.True(source.TryGetRetired(domains[0], out var retired));
            Assert.Equal(2000000UL, retired.RunNanoseconds);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void DomainNotListed_ItsSeriesAndStateAreGone()
    {
        using var source = new DomainProcfsSource(ProcfsParserTests.KvmHost);
        var domains = FixtureDomains(ProcfsParserTests.KvmHost);
        var set = Collect(source, domains);
        Assert.Equal(2, Series(set, "domain_threads").Count());
        Assert.Equal(2, source.TrackedDomainCount);

        set = Collect(source, domains.Take(1).ToArray(), set: set);
        Assert.Equal(new[] { "web-01" }, Series(set, "domain_threads").Select(s => s.LabelValues[0]));
        Assert.All(set.Families, f => Assert.All(f.Samples, s => Assert.Equal("web-01", s.LabelValues[0])));
        Assert.Equal(1, source.TrackedDomainCount);

        set = Collect(source, Array.Empty<VmDomain>(), set: set);
        Assert.All(set.Families, f => Assert.Empty(f.Samples));
        Assert.Equal(0, source.TrackedDomainCount);
    }

    [Fact]
    public void VanishedProcessAndUnknownPid_SkippedWithDebugLog_OthersKept()
    {
        using var source = new DomainProcfsSource(ProcfsParserTests.KvmHost);
        var domains = FixtureDomains(ProcfsParserTests.KvmHost).Take(1)
            .Append(new VmDomain { Name = "gone", Uuid = Guid.NewGuid(), Pid = 99999, Vcpus = new[] { new VmVcpu(0, 99998) } })
            .Append(new VmDomain { Name = "no-pid", Uuid = Guid.NewGuid(), Pid = 0 })
            .ToArray();
        var log = new ListLog();
        var set = Collect(source, domains, log);
        Assert.Equal(new[] { "web-01" }, Series(set, "domain_threads").Select(s => s.LabelValues[0]));
        Assert.Contains(log.Lines, l => l.StartsWith("Debug:", StringComparison.Ordinal) && l.Contains("'gone'", StringComparison.Ordinal) && l.Contains("99999", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => !l.StartsWith("Debug:", StringComparison.Ordinal));
    }

    [Fact]
    public void UnparsableTaskFile_DomainSkipped_WarnedOnce_OthersKept()
    {
        var root = CopyKvmHostProcesses();
        try
        {
            using var source = new DomainProcfsSource(root);
            var domains = FixtureDomains(root);
            File.WriteAllText(Path.Combine(root, "proc", "4242", "task", "4251", "schedstat"), "garbage\n");
            var log = new ListLog();
            var set = Collect(source, domains, log);
            Collect(source, domains, log, set);
            Assert.Equal(new[] { domains[1].Name }, Series(set, "domain_threads").Select(s => s.LabelValues[0]));
            var warning = Assert.Single(log.Lines, l => l.StartsWith("Warning:", StringComparison.Ordinal));
            Assert.Contains("web-01", warning, StringComparison.Ordinal);
            Assert.Contains("4251/schedstat", warning, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// The test process as a domain: threads that burnt CPU exit between two cycles; the domain counters must keep their
    /// time (the retired total holds at least what they ran) and never decrease. The threads keep their names: a vCPU-like
    /// name would be picked up by the inspector test that runs in parallel on this same process.
    /// </summary>
    [Fact]
    public void LiveProcess_ExitedThreadsTimeIsKept_CountersMonotonic()
    {
        const ulong BurnNanoseconds = 30_000_000;
        var tids = new int[3];
        using var burnt = new CountdownEvent(tids.Length);
        using var release = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, tids.Length).Select(i => new Thread(() =>
        {
            tids[i] = VmProbe.Tests.Perf.PerfTestSupport.GetTid();
            while (OwnRunNanoseconds() < BurnNanoseconds)
            {
                Thread.SpinWait(1000);
            }

            burnt.Signal();
            release.Wait();
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        burnt.Wait();
        var domain = new VmDomain
        {
            Name = "self test-vm",
            Uuid = Guid.NewGuid(),
            Pid = Environment.ProcessId,
            Vcpus = tids.Select((tid, i) => new VmVcpu(i, tid)).ToArray(),
        };
        var labels = new[] { domain.Name, domain.Uuid.ToString() };
        using var source = new DomainProcfsSource();
        var set = Collect(source, new[] { domain });
        var run1 = Value(set, "domain_sched_run_seconds_total", labels);
        var threads1 = Value(set, "domain_threads", labels);
        for (var i = 0; i < tids.Length; i++)
        {
            Assert.True(Value(set, "domain_vcpu_sched_run_seconds_total", domain.Name, labels[1], i.ToString(CultureInfo.InvariantCulture)) >= BurnNanoseconds / 1e9);
        }

        release.Set();
        foreach (var t in threads)
        {
            t.Join();
        }

        foreach (var tid in tids)
        {
            Assert.True(Requirements.WaitUntilThreadGone(tid), $"thread {tid} still listed in /proc/self/task after 5 s");
        }

        set = Collect(source, new[] { domain }, set: set);
        Assert.True(Value(set, "domain_sched_run_seconds_total", labels) >= run1);
        Assert.True(Value(set, "domain_threads", labels) < threads1);
        Assert.Empty(Series(set, "domain_vcpu_sched_run_seconds_total"));
        Assert.True(source.TryGetRetired(domain, out var retired));
        Assert.True(retired.RunNanoseconds >= (ulong)tids.Length * BurnNanoseconds, $"retired {retired.RunNanoseconds} ns");
    }

    /// <summary>A QEMU process started without libvirt (TCG, vCPUs stopped): found by the process scan and sampled per vCPU.</summary>
    [SkippableFact]
    public void LiveQemuWithoutLibvirt_DiscoveredAndSampled()
    {
        var qemu = Requirements.FindCommand("qemu-system-x86_64");
        Skip.If(qemu is null, "qemu-system-x86_64 is not installed");
        var uuid = Guid.NewGuid();
        var psi = new ProcessStartInfo(qemu!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[]
        {
            "-name", "guest=fake vm-01.test,debug-threads=on", "-uuid", uuid.ToString(), "-machine", "pc", "-accel", "tcg",
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
            for (var attempt = 0; attempt < 300 && !child.HasExited; attempt++)
            {
                domain = discovery.Discover(NullProbeLog.Instance, default).SingleOrDefault(d => d.Pid == child.Id);
                if (domain is { Vcpus.Count: 2 })
                {
                    break;
                }

                Thread.Sleep(100);
            }

            Assert.False(child.HasExited, "QEMU exited: " + (child.HasExited ? child.StandardError.ReadToEnd() : string.Empty));
            Assert.NotNull(domain);
            Assert.Equal("fake vm-01.test", domain!.Name);
            Assert.Equal(uuid, domain.Uuid);
            Assert.Equal("process", domain.Uri);
            Assert.Equal(new[] { 0, 1 }, domain.Vcpus.Select(v => v.Index));

            using var source = new DomainProcfsSource();
            var set = Collect(source, new[] { domain });
            var labels = new[] { domain.Name, uuid.ToString() };
            Assert.True(Value(set, "domain_threads", labels) >= 3);
            Assert.True(Value(set, "domain_sched_run_seconds_total", labels) > 0);
            Assert.Equal(new[] { "0", "1" }, Series(set, "domain_vcpu_sched_run_seconds_total").Select(s => s.LabelValues[2]));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    private static ulong OwnRunNanoseconds()
    {
        var text = File.ReadAllText("/proc/thread-self/schedstat");
        return ulong.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
    }

}
