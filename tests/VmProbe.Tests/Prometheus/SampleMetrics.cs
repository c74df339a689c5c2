using System.Globalization;
using VmProbe.Prometheus;

namespace VmProbe.Tests.Prometheus;

/// <summary>A MetricSet shaped like a real cycle: host gauges and counters, per-domain and per-vCPU series, awkward label values.</summary>
public static class SampleMetrics
{
    public static MetricSet Realistic(int domains, int vcpus)
    {
        var set = new MetricSet();
        set.Family("probe_cycle_duration_seconds", MetricType.Gauge, "Duration of the last collection cycle in seconds.").Add(0.0123);
        set.Family("host_context_switches_total", MetricType.Counter, "Context switches on the host.").Add(123456789);
        var cpu = set.Family("domain_cpu_seconds_total", MetricType.Counter, "CPU time used by the domain's QEMU process.", "domain", "uuid");
        var memory = set.Family("domain_memory_bytes", MetricType.Gauge, "Current balloon size of the domain in bytes.", "domain", "uuid");
        var wait = set.Family("vcpu_wait_seconds_total", MetricType.Counter, "Time the vCPU thread waited on a run queue (schedstat).", "domain", "vcpu");
        var switches = set.Family("vcpu_context_switches_total", MetricType.Counter, "Context switches of the vCPU thread (perf software event).", "domain", "vcpu");
        for (var d = 0; d < domains; d++)
        {
            // Domain names may contain anything libvirt accepts; one of them needs every escape.
            var name = d == 1 ? "odd \"vm\" \\ name\nline" : "vm-" + d.ToString(CultureInfo.InvariantCulture);
            var uuid = new Guid(d, 0, 0, new byte[8]).ToString();
            cpu.Add(1000.25 + d, name, uuid);
            memory.Add(2147483648d * (1 + (d % 4)), name, uuid);
            for (var v = 0; v < vcpus; v++)
            {
                var vcpu = v.ToString(CultureInfo.InvariantCulture);
                wait.Add(d + (v / 1000d), name, vcpu);
                switches.Add(d * 1000 + v, name, vcpu);
            }
        }

        return set;
    }
}
