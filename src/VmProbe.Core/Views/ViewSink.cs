namespace VmProbe.Views;

/// <summary>
/// The loop's sink for people: each cycle's <see cref="MetricSet"/> becomes one <see cref="ViewFrame"/> (rates over the
/// interval) handed to every consumer: the terminal view, log lines, the per-VM CSV directory. Composed beside the
/// textfile sink, so the rates are the textfile's own numbers of the same cycle.
/// </summary>
public sealed class ViewSink : ITextfileSink
{
    private readonly ViewFrameBuilder _builder;
    private readonly IReadOnlyList<IViewConsumer> _consumers;

    public ViewSink(IReadOnlyList<IViewConsumer> consumers, string destination, ViewFrameBuilder? builder = null)
    {
        ArgumentNullException.ThrowIfNull(consumers);
        _consumers = consumers;
        Destination = destination;
        _builder = builder ?? new ViewFrameBuilder();
    }

    public string Destination { get; }

    /// <summary>The last frame built (null before the first cycle).</summary>
    public ViewFrame? LastFrame { get; private set; }

    public void Export(MetricSet metrics)
    {
        var frame = _builder.Build(metrics);
        LastFrame = frame;
        foreach (var consumer in _consumers)
        {
            consumer.Show(frame);
        }
    }
}
