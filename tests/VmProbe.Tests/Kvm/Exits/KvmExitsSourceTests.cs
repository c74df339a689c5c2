using VmProbe.Kvm.Exits;
using Xunit;
using static VmProbe.Tests.Kvm.Exits.KvmExitFixtures;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>The source's choice of tracer and its bookkeeping, with tracers that record what they are asked.</summary>
public class KvmExitsSourceTests
{
    private sealed class RecordingTracer : IKvmExitTracer
    {
        public RecordingTracer(KvmExitTracerMode mode) => Mode = mode;

        public KvmExitTracerMode Mode { get; }

        public string Description => "recording";

        public Dictionary<int, List<int>> Tracked { get; } = new();

        public List<int> Forgotten { get; } = new();

        public bool Disposed { get; private set; }

        public void Track(int tgid, IReadOnlyCollection<int> vcpuThreadIds) => Tracked[tgid] = vcpuThreadIds.Order().ToList();

        public KvmExitSnapshot Snapshot() => KvmExitFixtures.Snapshot();

        public void Forget(int tgid) => Forgotten.Add(tgid);

        public void Dispose() => Disposed = true;
    }

    private sealed class ListLog : IProbeLog
    {
        public List<string> Lines { get; } = new();

        public bool IsEnabled(LogLevel level) => true;

        public void Write(LogLevel level, string message) => Lines.Add($"{level}: {message}");
    }

    private static KvmExitTracerFactory Unavailable(string why) => (_, _) => throw new KvmExitTracerUnavailableException(why, "test");

    private static CycleContext Cycle(params VmDomain[] domains) => new(domains, DateTimeOffset.Now, NullProbeLog.Instance, CancellationToken.None);

    private static string ModeSeries(MetricSet metrics)
    {
        Assert.True(metrics.TryGet(KvmExitFamilies.Mode.Name, out var family));
        return string.Join("|", Assert.Single(family.Samples).LabelValues);
    }

    [Fact]
    public void BpfWinsWhenItLoads()
    {
        var bpf = new RecordingTracer(KvmExitTracerMode.BpfLatency);
        var log = new ListLog();
        using var source = new KvmExitsSource(new KvmExitsOptions { Mode = KvmExitsMode.Latency }, log, "/", (_, _) => bpf, Unavailable("unused"));
        var metrics = new MetricSet();
        source.Collect(Cycle(Web, Db), metrics);

        Assert.Equal("bpf-latency|latency", ModeSeries(metrics));
        Assert.Equal(new[] { 101, 102 }, bpf.Tracked[100]);
        Assert.Equal(new[] { 201 }, bpf.Tracked[200]);
        Assert.True(metrics.TryGet(KvmExitFamilies.ExitHandling.Name, out _));
        Assert.Single(log.Lines, l => l.Contains("bpf-latency", StringComparison.Ordinal));
    }

    [Fact]
    public void FallsBackToPerfFilterAndSaysWhy()
    {
        var perf = new RecordingTracer(KvmExitTracerMode.PerfFilter);
        var log = new ListLog();
        using var source = new KvmExitsSource(new KvmExitsOptions { Mode = KvmExitsMode.Latency }, log, "/", Unavailable("no libbpf here"), (_, _) => perf);
        var metrics = new MetricSet();
        source.Collect(Cycle(Web), metrics);
        source.Collect(Cycle(Web), new MetricSet());

        Assert.Equal("perf-filter|latency", ModeSeries(metrics));
        var line = Assert.Single(log.Lines);
        Assert.Contains("perf-filter, because no libbpf here; no handling-time histograms", line);
    }

    [Fact]
    public void KeepsGoingWhenNothingRuns()
    {
        var log = new ListLog();
        using var source = new KvmExitsSource(new KvmExitsOptions(), log, "/", Unavailable("no libbpf"), Unavailable("no tracefs"));
        var metrics = new MetricSet();
        source.Collect(Cycle(Web), metrics);
        source.Collect(Cycle(Web), metrics);

        Assert.Equal(KvmExitTracerMode.Off, source.Mode);
        Assert.False(metrics.TryGet(KvmExitFamilies.ExitsByReason.Name, out _));
        var line = Assert.Single(log.Lines);
        Assert.StartsWith("Warning: kvmexits: off, because no libbpf, and no tracefs", line);
    }

    [Fact]
    public void ForgetsDomainsThatGoAndDisposesTheTracer()
    {
        var bpf = new RecordingTracer(KvmExitTracerMode.BpfCounts);
        var source = new KvmExitsSource(new KvmExitsOptions(), null, "/", (_, _) => bpf, null);
        source.Collect(Cycle(Web, Db), new MetricSet());
        source.Collect(Cycle(Web), new MetricSet());
        Assert.Equal(new[] { 200 }, bpf.Forgotten);
        source.Dispose();
        Assert.True(bpf.Disposed);
    }

    [Fact]
    public void VcpuThreadsFromProcWhenDiscoveryHasNone()
    {
        var root = Directory.CreateTempSubdirectory("kvmexits-proc").FullName;
        try
        {
            foreach (var (tid, comm) in new[] { (500, "qemu-system-x86"), (501, "CPU 0/KVM"), (502, "CPU 1/KVM"), (503, "IO mon_iothread") })
            {
                var task = Path.Combine(root, "proc", "500", "task", tid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(task);
                File.WriteAllText(Path.Combine(task, "comm"), comm + "\n");
            }

            using var source = new KvmExitsSource(new KvmExitsOptions(), null, root);
            var threads = source.VcpuThreads(new VmDomain { Name = "p", Pid = 500 });
            Assert.Equal(new[] { (501, 0), (502, 1) }, threads.Select(t => (t.Key, t.Value)).Order());
            Assert.Empty(source.VcpuThreads(new VmDomain { Name = "gone", Pid = 999 }));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
