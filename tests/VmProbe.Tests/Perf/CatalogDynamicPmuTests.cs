using Xunit;
using VmProbe.Perf;

namespace VmProbe.Tests.Perf;

public class CatalogDynamicPmuTests
{
    [SkippableFact]
    public void ReadsARealPmuEventFromSysfs()
    {
        const string Msr = "/sys/bus/event_source/devices/msr";
        Skip.IfNot(File.Exists(Path.Combine(Msr, "events", "tsc")), "this kernel has no msr PMU");
        var spec = PerfEventCatalog.Parse("msr/tsc/");
        Assert.Equal("msr_tsc", spec.CanonicalName);
        Assert.Equal(PerfEventKind.Dynamic, spec.Kind);
        Assert.Equal(uint.Parse(File.ReadAllText(Path.Combine(Msr, "type")).Trim()), spec.Type);
        var term = File.ReadAllText(Path.Combine(Msr, "events", "tsc")).Trim();
        Assert.Equal(Convert.ToUInt64(term[(term.IndexOf('=') + 1)..], 16), spec.Config);
        Assert.Equal(spec, PerfEventCatalog.Parse("msr/tsc"));
    }

    [Fact]
    public void PlacesTermsThroughTheFormatFiles()
    {
        var root = Directory.CreateTempSubdirectory("vmprobe-pmu-").FullName;
        try
        {
            var pmu = Path.Combine(root, "cpu");
            Directory.CreateDirectory(Path.Combine(pmu, "events"));
            Directory.CreateDirectory(Path.Combine(pmu, "format"));
            File.WriteAllText(Path.Combine(pmu, "type"), "4\n");
            File.WriteAllText(Path.Combine(pmu, "format", "event"), "config:0-7\n");
            File.WriteAllText(Path.Combine(pmu, "format", "umask"), "config:8-15\n");
            File.WriteAllText(Path.Combine(pmu, "format", "edge"), "config:18\n");
            File.WriteAllText(Path.Combine(pmu, "format", "cmask"), "config:24-31\n");
            File.WriteAllText(Path.Combine(pmu, "events", "mem-loads"), "event=0xcd,umask=0x1,edge,cmask=3\n");
            File.WriteAllText(Path.Combine(pmu, "events", "mem-loads.scale"), "1\n");

            var spec = PerfEventCatalog.Parse("cpu/mem-loads/", false, root);
            Assert.Equal("cpu_mem_loads", spec.CanonicalName);
            Assert.Equal(4u, spec.Type);
            Assert.Equal(0xcdul | (0x1ul << 8) | (1ul << 18) | (3ul << 24), spec.Config);

            var noEvent = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse("cpu/mem-stores", false, root));
            Assert.Contains("has no event 'mem-stores'; it has: mem-loads", noEvent.Message);
            Assert.DoesNotContain("mem-loads.scale", noEvent.Message);

            var noPmu = Assert.Throws<UnknownPerfEventException>(() => PerfEventCatalog.Parse("power/energy-pkg", false, root));
            Assert.Contains("unknown PMU 'power'", noPmu.Message);
            Assert.Contains("cpu", noPmu.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
