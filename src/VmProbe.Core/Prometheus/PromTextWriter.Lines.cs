using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace VmProbe.Prometheus;

/// <summary>The exposition's lines: samples and histogram series, values and escaped text, formatted straight into UTF-8.</summary>
public sealed partial class PromTextWriter
{
    // Largest magnitude below which every integer is exact in a double: such values print as plain integers.
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    // "-1.2345678901234567E+308" is 24 bytes: room for any value FormatValue writes.
    private const int MaxValueLength = 32;

    /// <summary>
    /// One histogram series: <c>name_bucket{labels,le="b"}</c> per finite bound and <c>le="+Inf"</c> (the count), then
    /// <c>name_sum</c> when the sum is known and <c>name_count</c>. Its label pairs are rendered here (uncached path).
    /// </summary>
    private void WriteHistogram(IBufferWriter<byte> output, byte[] name, byte[][] labelNames, in MetricSample sample)
    {
        _scratch.ResetWrittenCount();
        WriteLabelPairs(_scratch, labelNames, sample.LabelValues);
        WriteHistogram(output, name, _scratch.WrittenSpan, labelNames.Length > 0, sample);
    }

    /// <summary>A histogram series' lines from its rendered label pairs (<c>a="x",b="y"</c>, empty when it has no labels).</summary>
    private static void WriteHistogram(
        IBufferWriter<byte> output, byte[] name, ReadOnlySpan<byte> pairs, bool hasLabels, in MetricSample sample)
    {
        var histogram = sample.Histogram;
        Span<byte> bound = stackalloc byte[MaxValueLength];
        if (histogram is not null)
        {
            var bounds = histogram.UpperBoundSpan;
            var cumulative = histogram.CumulativeSpan;
            for (var i = 0; i < bounds.Length; i++)
            {
                var length = FormatValue(bounds[i], bound);
                WriteHistogramLine(output, name, "_bucket"u8, pairs, hasLabels, bound[..length], cumulative[i]);
            }
        }

        var count = histogram?.Count ?? sample.Value;
        WriteHistogramLine(output, name, "_bucket"u8, pairs, hasLabels, "+Inf"u8, count);
        if (histogram?.Sum is { } sum)
        {
            WriteHistogramLine(output, name, "_sum"u8, pairs, hasLabels, default, sum);
        }

        WriteHistogramLine(output, name, "_count"u8, pairs, hasLabels, default, count);
    }

    /// <summary>One histogram line: name, suffix, label pairs (and <c>le</c> when <paramref name="le"/> is not empty), value.</summary>
    private static void WriteHistogramLine(
        IBufferWriter<byte> output, byte[] name, ReadOnlySpan<byte> suffix, ReadOnlySpan<byte> pairs, bool hasLabels,
        ReadOnlySpan<byte> le, double value)
    {
        WriteBytes(output, name);
        WriteBytes(output, suffix);
        if (hasLabels || !le.IsEmpty)
        {
            WriteBytes(output, "{"u8);
            WriteBytes(output, pairs);
            if (!le.IsEmpty)
            {
                WriteBytes(output, hasLabels ? ",le=\""u8 : "le=\""u8);
                WriteBytes(output, le);
                WriteBytes(output, "\""u8);
            }

            WriteBytes(output, "}"u8);
        }

        WriteBytes(output, " "u8);
        WriteValue(output, value);
        WriteBytes(output, "\n"u8);
    }

    /// <summary>One sample line rendered whole (uncached path): name, labels, value.</summary>
    private static void WriteSample(IBufferWriter<byte> output, byte[] name, byte[][] labelNames, in MetricSample sample)
    {
        WriteBytes(output, name);
        if (labelNames.Length > 0)
        {
            WriteBytes(output, "{"u8);
            WriteLabelPairs(output, labelNames, sample.LabelValues);
            WriteBytes(output, "}"u8);
        }

        WriteBytes(output, " "u8);
        WriteValue(output, sample.Value);
        WriteBytes(output, "\n"u8);
    }

    /// <summary><c>a="x",b="y"</c>: label names as given, values escaped (null as empty).</summary>
    private static void WriteLabelPairs(IBufferWriter<byte> output, byte[][] labelNames, string[] labelValues)
    {
        for (var i = 0; i < labelNames.Length; i++)
        {
            if (i > 0)
            {
                WriteBytes(output, ","u8);
            }

            WriteBytes(output, labelNames[i]);
            WriteBytes(output, "=\""u8);
            WriteEscaped(output, labelValues[i] ?? string.Empty, escapeQuote: true);
            WriteBytes(output, "\""u8);
        }
    }

    /// <summary>Formats a sample value: NaN/+Inf/-Inf spelled as Prometheus does, exact integers without exponent, else shortest round-trip.</summary>
    public static int FormatValue(double value, Span<byte> destination)
    {
        ReadOnlySpan<byte> special =
            double.IsNaN(value) ? "NaN"u8 :
            double.IsPositiveInfinity(value) ? "+Inf"u8 :
            double.IsNegativeInfinity(value) ? "-Inf"u8 : default;
        if (!special.IsEmpty)
        {
            special.CopyTo(destination);
            return special.Length;
        }

        int written;
        if (Math.Abs(value) <= MaxExactInteger && value == Math.Floor(value))
        {
            if (!Utf8Formatter.TryFormat((long)value, destination, out written))
            {
                throw new ArgumentException("destination too small", nameof(destination));
            }

            return written;
        }

        if (!value.TryFormat(destination, out written, "R", CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("destination too small", nameof(destination));
        }

        return written;
    }

    private static void WriteValue(IBufferWriter<byte> output, double value)
    {
        var span = output.GetSpan(MaxValueLength);
        output.Advance(FormatValue(value, span));
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    /// <summary>UTF-8 encodes <paramref name="text"/>, escaping backslash, newline and (in label values) double quote.</summary>
    private static void WriteEscaped(IBufferWriter<byte> output, string text, bool escapeQuote)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var special = escapeQuote ? rest.IndexOfAny('\\', '"', '\n') : rest.IndexOfAny('\\', '\n');
            var plain = special < 0 ? rest : rest[..special];
            if (!plain.IsEmpty)
            {
                var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(plain.Length));
                output.Advance(Encoding.UTF8.GetBytes(plain, span));
            }

            if (special < 0)
            {
                break;
            }

            WriteBytes(output, rest[special] switch
            {
                '\\' => "\\\\"u8,
                '"' => "\\\""u8,
                _ => "\\n"u8,
            });
            rest = rest[(special + 1)..];
        }
    }
}
