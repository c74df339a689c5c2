namespace VmProbe;

/// <summary>
/// The declaration of one metric family, as node_exporter's collectors declare a <c>Desc</c>: name without prefix
/// (for example <c>host_cpu_seconds_total</c>), type, help, label names and unit. Each family the probe writes is
/// declared once, as a static field of a <c>*Families</c> class in its source's folder, and every source, sample
/// mapping and exposition obtains the family with <see cref="MetricSet.Family(MetricDesc)"/>.
/// </summary>
public sealed class MetricDesc
{
    private readonly string[] _labelNames;

    /// <param name="name">Family name without prefix.</param>
    /// <param name="type">Counter (name ends in <c>_total</c>) or gauge.</param>
    /// <param name="unit">Base unit the name carries before any <c>_total</c> (<c>seconds</c>, <c>bytes</c>, <c>ratio</c>), or empty for a count or a plain number.</param>
    /// <param name="help">The HELP text.</param>
    /// <param name="labelNames">Label names in series order.</param>
    public MetricDesc(string name, MetricType type, string unit, string help, params string[] labelNames)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Type = type;
        Unit = unit ?? string.Empty;
        Help = help ?? throw new ArgumentNullException(nameof(help));
        _labelNames = labelNames ?? Array.Empty<string>();
    }

    public string Name { get; }

    public MetricType Type { get; }

    /// <summary>Base unit (suffix of the name before <c>_total</c>), or empty.</summary>
    public string Unit { get; }

    public string Help { get; }

    public IReadOnlyList<string> LabelNames => _labelNames;

    internal string[] LabelArray => _labelNames;

    public override string ToString() => $"{Name} {Type} {{{string.Join(",", _labelNames)}}}";
}
