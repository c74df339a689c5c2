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

    /// <summary>
    /// One histogram series: <c>name_bucket{labels,le="b"}</c> per finite bound and <c>le="+Inf"</c> (the count), then
    /// <c>name_sum</c> when the sum is known and <c>name_count</c>.
    /// </summary>
    private static void WriteHistogram(IBufferWriter<byte> output, byte[] name, byte[][] labelNames, in MetricSample sample)
    {
        var histogram = sample.Histogram;
        Span<byte> bound = stackalloc byte[32];
        if (histogram is not null)
        {
            for (var i = 0; i < histogram.UpperBounds.Count; i++)
            {
                var length = FormatValue(histogram.UpperBounds[i], bound);
                WriteLine(output, name, "_bucket"u8, labelNames, sample.LabelValues, bound[..length], histogram.CumulativeCounts[i]);
            }
        }

        var count = histogram?.Count ?? sample.Value;
        WriteLine(output, name, "_bucket"u8, labelNames, sample.LabelValues, "+Inf"u8, count);
        if (histogram?.Sum is { } sum)
        {
            WriteLine(output, name, "_sum"u8, labelNames, sample.LabelValues, default, sum);
        }

        WriteLine(output, name, "_count"u8, labelNames, sample.LabelValues, default, count);
    }

    private static void WriteSample(IBufferWriter<byte> output, byte[] name, byte[][] labelNames, in MetricSample sample) =>
        WriteLine(output, name, default, labelNames, sample.LabelValues, default, sample.Value);

    /// <summary>One line: name, suffix, labels (and <c>le</c> when <paramref name="le"/> is not empty), value.</summary>
    private static void WriteLine(
        IBufferWriter<byte> output, byte[] name, ReadOnlySpan<byte> suffix, byte[][] labelNames, string[] labelValues,
        ReadOnlySpan<byte> le, double value)
    {
        WriteBytes(output, name);
        WriteBytes(output, suffix);
        if (labelNames.Length > 0 || !le.IsEmpty)
        {
            WriteBytes(output, "{"u8);
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

            if (!le.IsEmpty)
            {
                WriteBytes(output, labelNames.Length > 0 ? ",le=\""u8 : "le=\""u8);
                WriteBytes(output, le);
                WriteBytes(output, "\""u8);
            }

            WriteBytes(output, "}"u8);
        }

        WriteBytes(output, " "u8);
        WriteValue(output, value);
        WriteBytes(output, "\n"u8);
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
        var span = output.GetSpan(32); // "-1.2345678901234567E+308" is 24 bytes
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
