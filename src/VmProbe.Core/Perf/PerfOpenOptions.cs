namespace VmProbe.Perf;

/// <summary>Modifiers applied to every event of a counter set (perf_event_attr exclude_* bits).</summary>
internal sealed record PerfOpenOptions
{
    public static PerfOpenOptions Default { get; } = new();

    public bool ExcludeUser { get; init; }

    public bool ExcludeKernel { get; init; }

    public bool ExcludeHypervisor { get; init; }

    public bool ExcludeGuest { get; init; }

    public bool ExcludeHost { get; init; }

    public bool ExcludeIdle { get; init; }
}
