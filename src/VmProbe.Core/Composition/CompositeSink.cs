namespace VmProbe.Composition;

/// <summary>
/// Several sinks fed by one cycle, in order (the textfile first). Each gets the cycle even when one before it threw;
/// the first failure is rethrown afterwards, so the export health still reports it.
/// </summary>
public sealed class CompositeSink : ITextfileSink, IDisposable
{
    private readonly IReadOnlyList<ITextfileSink> _sinks;

    public CompositeSink(IReadOnlyList<ITextfileSink> sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        if (sinks.Count == 0)
        {
            throw new ArgumentException("A composite sink needs at least one sink.", nameof(sinks));
        }

        _sinks = sinks;
    }

    public IReadOnlyList<ITextfileSink> Sinks => _sinks;

    public string Destination => string.Join(" and ", _sinks.Select(s => s.Destination));

    public void Export(MetricSet metrics) => ExportToEach(metrics, last: false);

    public void ExportLast(MetricSet metrics) => ExportToEach(metrics, last: true);

    private void ExportToEach(MetricSet metrics, bool last)
    {
        Exception? first = null;
        foreach (var sink in _sinks)
        {
            try
            {
                if (last)
                {
                    sink.ExportLast(metrics);
                }
                else
                {
                    sink.Export(metrics);
                }
            }
            catch (Exception error)
            {
                first ??= error;
            }
        }

        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    public void Dispose()
    {
        foreach (var sink in _sinks.OfType<IDisposable>())
        {
            sink.Dispose();
        }
    }
}
