using System.Buffers;

namespace VmProbe.Prometheus;

/// <summary>
/// The series key cache: each family's HELP/TYPE header and each series' key (<c>name{labels} </c>, escaped and UTF-8
/// encoded) are rendered once, when the family or series first appears, and copied every cycle after; only values
/// are formatted, and a value equal to the last cycle's is copied too. A family or series absent from a cycle is
/// dropped from the cache at the end of that cycle, so the cache holds exactly what the last file held.
/// </summary>
public sealed partial class PromTextWriter
{
    private readonly Dictionary<string, FamilyKeys> _familyKeys = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly List<SeriesKey> _replaced = new(); // last cycle's keys whose place a sample took this cycle
    private long _cycle;
    private int _familiesSeen;

    /// <summary>
    /// Renders each series key once per series lifetime (the default). False renders every line from scratch every
    /// time: the same bytes, cheaper for a writer that renders once (<c>--once</c>'s file through
    /// <see cref="PromTextfileSink.ExportLast"/>, <c>ConvertTo-PromText</c>); the tests compare the two.
    /// </summary>
    public bool CacheSeries { get; init; } = true;

    /// <summary>Series keys held now: the series of the last write (for tests of the bound).</summary>
    internal int CachedSeriesCount => _familyKeys.Values.Sum(f => f.Series.Count);

    /// <summary>Families held now, and the name translations kept for them.</summary>
    internal (int Families, int Names, int LabelNameSets) CachedFamilyCount => (_familyKeys.Count, _familyNames.Count, _familyLabelNames.Count);

    private void BeginCycle()
    {
        _cycle++;
        _familiesSeen = 0;
    }

    /// <summary>Writes one family (header and samples) from the cache; returns the series written and the duplicates dropped.</summary>
    private (int Series, int Duplicates) WriteFamilyCached(
        IBufferWriter<byte> output, byte[] name, byte[][] labelNames, MetricFamily family, ref string? firstProblem)
    {
        if (!_familyKeys.TryGetValue(family.Name, out var keys) || !keys.Fits(name, labelNames, family.Type))
        {
            keys = new FamilyKeys(name, labelNames, family.Type);
            _familyKeys[family.Name] = keys;
        }

        keys.Stamp = _cycle;
        _familiesSeen++;
        if (keys.Header is null || !string.Equals(keys.Help, family.Help, StringComparison.Ordinal))
        {
            _scratch.ResetWrittenCount();
            WriteHeader(_scratch, name, family);
            keys.Header = _scratch.WrittenSpan.ToArray();
            keys.Help = family.Help;
        }

        WriteBytes(output, keys.Header);

        var samples = family.Samples;
        var positions = keys.PositionsFor(samples.Count, _replaced);
        int series = 0, duplicates = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            var key = positions[i];

            // Sources keep one label array per series, so the series at index i is usually last cycle's: compared by
            // reference per label, without hashing. Anything else (new, moved, mutated) is found by content.
            if (key is null || key.Dead || !key.Matches(sample.LabelValues))
            {
                if (key is not null)
                {
                    _replaced.Add(key); // gone unless another sample finds it
                }

                key = keys.Find(sample.LabelValues) ?? keys.Add(NewSeriesKey(name, labelNames, family.Type, sample.LabelValues));
                positions[i] = key;
            }

            if (key.Stamp == _cycle)
            {
                duplicates++;
                firstProblem ??= $"duplicate series {family.Name}{{{string.Join(",", sample.LabelValues)}}}";
                continue;
            }

            key.Stamp = _cycle;
            series++;
            if (family.Type == MetricType.Histogram)
            {
                WriteHistogram(output, name, key.Key, labelNames.Length > 0, sample);
            }
            else
            {
                WriteBytes(output, key.Line(sample.Value));
            }
        }

        keys.DropUnseen(_cycle, series, _replaced);
        return (series, duplicates);
    }

    /// <summary>After the last family: drops families (and their name translations) that were not written this cycle.</summary>
    private void EndCycle()
    {
        if (_familyKeys.Count > _familiesSeen)
        {
            foreach (var (familyName, keys) in _familyKeys)
            {
                if (keys.Stamp != _cycle)
                {
                    _familyKeys.Remove(familyName); // allowed while enumerating since .NET Core 3.0
                }
            }
        }

        // The name translations would otherwise keep every per-domain family the legacy naming ever had.
        DropUnused(_familyNames);
        DropUnused(_familyLabelNames);
    }

    private void DropUnused<T>(Dictionary<string, T> byFamilyName)
    {
        if (byFamilyName.Count > _familyKeys.Count)
        {
            foreach (var familyName in byFamilyName.Keys)
            {
                if (!_familyKeys.ContainsKey(familyName))
                {
                    byFamilyName.Remove(familyName);
                }
            }
        }
    }

    /// <summary>Renders a new series' key with the same code the uncached path uses, so the bytes are the same.</summary>
    private SeriesKey NewSeriesKey(byte[] name, byte[][] labelNames, MetricType type, string[] labelValues)
    {
        var values = new string[labelValues.Length]; // a copy: the source may reuse its array for another series
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = labelValues[i] ?? string.Empty;
        }

        _scratch.ResetWrittenCount();
        if (type == MetricType.Histogram)
        {
            WriteLabelPairs(_scratch, labelNames, values);
            return new SeriesKey(values, _scratch.WrittenSpan.ToArray(), 0);
        }

        WriteBytes(_scratch, name);
        if (labelNames.Length > 0)
        {
            WriteBytes(_scratch, "{"u8);
            WriteLabelPairs(_scratch, labelNames, values);
            WriteBytes(_scratch, "}"u8);
        }

        WriteBytes(_scratch, " "u8);
        var prefixLength = _scratch.WrittenCount;
        var line = new byte[prefixLength + MaxValueLength + 1];
        _scratch.WrittenSpan.CopyTo(line);
        return new SeriesKey(values, line, prefixLength);
    }

    /// <summary>One family's cached header and series keys, valid while its exposed name, label names and type stay.</summary>
    private sealed class FamilyKeys(byte[] name, byte[][] labelNames, MetricType type)
    {
        private readonly Dictionary<string[], SeriesKey> _byValues = new(LabelValuesComparer.Instance);
        private SeriesKey?[] _positions = [];

        public long Stamp;
        public byte[]? Header;
        public string? Help;

        public IReadOnlyCollection<SeriesKey> Series => _byValues.Values;

        // The translations are cached per raw name and label list, so the same arrays mean the same family shape.
        public bool Fits(byte[] exposedName, byte[][] exposedLabelNames, MetricType familyType) =>
            ReferenceEquals(name, exposedName) && ReferenceEquals(labelNames, exposedLabelNames) && type == familyType;

        /// <summary>
        /// The series each sample index had last cycle, grown or shrunk to <paramref name="count"/>; the keys past
        /// <paramref name="count"/> go to <paramref name="replaced"/>. Holds every cached key: what the last cycle wrote.
        /// </summary>
        public SeriesKey?[] PositionsFor(int count, List<SeriesKey> replaced)
        {
            for (var i = count; i < _positions.Length && _positions[i] is { } key; i++)
            {
                replaced.Add(key);
            }

            if (_positions.Length < count || _positions.Length > (2 * count) + 16)
            {
                Array.Resize(ref _positions, count);
            }
            else if (_positions.Length > count)
            {
                Array.Clear(_positions, count, _positions.Length - count);
            }

            return _positions;
        }

        public SeriesKey? Find(string[] labelValues) => _byValues.GetValueOrDefault(labelValues);

        public SeriesKey Add(SeriesKey key)
        {
            _byValues.Add(key.Values, key);
            return key;
        }

        /// <summary>
        /// Removes the series not written in <paramref name="cycle"/>. Every cached key held a position last cycle, so
        /// one not written now lost its position: it is among <paramref name="replaced"/>, and only those are looked at.
        /// </summary>
        public void DropUnseen(long cycle, int seen, List<SeriesKey> replaced)
        {
            if (_byValues.Count != seen)
            {
                foreach (var key in replaced)
                {
                    if (key.Stamp != cycle && !key.Dead)
                    {
                        key.Dead = true; // a stale position must not bring it back
                        _byValues.Remove(key.Values);
                    }
                }
            }

            replaced.Clear();
            if (_byValues.Count != seen)
            {
                DropUnseenByScan(cycle); // not reached while the invariant holds; a bound matters more than a scan
            }
        }

        private void DropUnseenByScan(long cycle)
        {
            foreach (var (values, key) in _byValues)
            {
                if (key.Stamp != cycle)
                {
                    key.Dead = true;
                    _byValues.Remove(values); // allowed while enumerating since .NET Core 3.0
                }
            }
        }
    }

    /// <summary>
    /// One series: its label values (a private copy) and either its whole line (<c>name{labels} value\n</c>, the value
    /// part rewritten when it changes) or, for a histogram, its escaped label pairs.
    /// </summary>
    private sealed class SeriesKey(string[] values, byte[] key, int prefixLength)
    {
        private long _valueBits;
        private int _lineLength;

        public long Stamp;
        public bool Dead;

        public string[] Values { get; } = values;

        /// <summary>The label pairs of a histogram series (<c>a="x",b="y"</c>).</summary>
        public byte[] Key { get; } = key;

        public bool Matches(string[] labelValues)
        {
            var values = Values;
            if (labelValues.Length != values.Length)
            {
                return false;
            }

            for (var i = 0; i < values.Length; i++)
            {
                var value = labelValues[i];
                if (!ReferenceEquals(value, values[i]) && !string.Equals(value ?? string.Empty, values[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>The full line for <paramref name="value"/>: the value formatted only when it differs from the last one.</summary>
        public ReadOnlySpan<byte> Line(double value)
        {
            var bits = BitConverter.DoubleToInt64Bits(value);
            if (_lineLength == 0 || bits != _valueBits)
            {
                var length = FormatValue(value, Key.AsSpan(prefixLength, MaxValueLength));
                Key[prefixLength + length] = (byte)'\n';
                _lineLength = prefixLength + length + 1;
                _valueBits = bits;
            }

            return Key.AsSpan(0, _lineLength);
        }
    }
}
