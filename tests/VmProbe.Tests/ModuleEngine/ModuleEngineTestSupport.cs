using VmProbe.Prometheus;

namespace VmProbe.Tests.ModuleEngine;

internal static class ModuleEngineTestSupport
{
    /// <summary>This test process as a domain: its pid, and one "vCPU" per given thread id.</summary>
    public static VmDomain SelfDomain(params int[] vcpuThreadIds) => new()
    {
        Name = "self",
        Uuid = Guid.Parse("6f1c3c9e-2b8a-4d5e-9f00-0123456789ab"),
        State = VmDomainState.Running,
        Pid = Environment.ProcessId,
        Vcpus = vcpuThreadIds.Select((tid, i) => new VmVcpu(i, tid)).ToArray(),
        Uri = "process",
    };

    /// <summary>
    /// name:type{label names} of every family with samples, in order: what must agree between the cmdlet path and the
    /// runner (a family declared without samples is not written, and samples cannot carry it).
    /// </summary>
    public static string[] Shape(MetricSet metrics) =>
        metrics.Families.Where(f => f.Samples.Count > 0).Select(f => $"{f.Name}:{f.Type}{{{string.Join(",", f.LabelNames)}}}").ToArray();

    /// <summary>Every series as family{label=value,...}.</summary>
    public static string[] Series(MetricSet metrics) =>
        metrics.Families.SelectMany(f => f.Samples.Select(s =>
            $"{f.Name}{{{string.Join(",", f.LabelNames.Select((n, i) => n + "=" + s.LabelValues[i]))}}}")).ToArray();
}
