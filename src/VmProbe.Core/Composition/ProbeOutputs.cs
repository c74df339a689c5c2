using VmProbe.Views;

namespace VmProbe.Composition;

/// <summary>
/// Where a probe's cycles go besides what the config says (<c>endpoint</c>, <c>csvdir</c>): views a front end adds
/// (<c>vmprobe top</c>'s screen or log lines), and whether the textfile is written at all.
/// </summary>
public sealed class ProbeOutputs
{
    public static readonly ProbeOutputs Default = new();

    /// <summary>Write the config's endpoint (false for a terminal view that must not fight a running service over the file).</summary>
    public bool Textfile { get; init; } = true;

    /// <summary>Consumers of each cycle's <see cref="ViewFrame"/>, beside the CSV directory of <c>csvdir</c>.</summary>
    public IReadOnlyList<IViewConsumer> Views { get; init; } = Array.Empty<IViewConsumer>();

    /// <summary>Overrides the config's <c>csvdir</c> (the runner's <c>--csvdir</c>); null keeps it.</summary>
    public string? CsvDir { get; init; }
}
