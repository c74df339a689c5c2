using System.Buffers;
using System.Text.Json;
using VmProbe.Perf;

namespace VmProbe.GuestApi;

/// <summary>
/// The endpoint's JSON lines (Utf8JsonWriter: no reflection, fit for NativeAOT), one object per line:
/// <c>start</c>, <c>interval</c> (counts of that interval), <c>summary</c> (counts of the whole session) or <c>error</c>.
/// </summary>
internal static class GuestReplyLines
{
    public static byte[] Start(GuestIdentity identity, GuestRequest request, IReadOnlyList<PerfEventState> events) => Line(w =>
    {
        w.WriteString("type", "start");
        w.WriteString("domain", identity.Name);
        w.WriteString("uuid", identity.Uuid.ToString("D"));
        w.WriteNumber("interval_ms", request.IntervalMs);
        if (request.Vcpu is { } vcpu)
        {
            w.WriteNumber("vcpu", vcpu);
        }

        if (request.DurationMs is { } duration)
        {
            w.WriteNumber("duration_ms", duration);
        }

        w.WriteStartArray("events");
        foreach (var state in events)
        {
            w.WriteStartObject();
            w.WriteString("event", state.Event.CanonicalName);
            w.WriteBoolean("supported", state.Supported);
            if (!state.Supported && state.Reason is { } reason)
            {
                w.WriteString("reason", reason);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] Interval(long seq, long elapsedMs, IReadOnlyList<GuestCount> counts) => Line(w =>
    {
        w.WriteString("type", "interval");
        w.WriteNumber("seq", seq);
        w.WriteNumber("elapsed_ms", elapsedMs);
        WriteCounts(w, counts);
    });

    public static byte[] Summary(long elapsedMs, string ended, IReadOnlyList<GuestCount> counts) => Line(w =>
    {
        w.WriteString("type", "summary");
        w.WriteNumber("elapsed_ms", elapsedMs);
        w.WriteString("ended", ended);
        WriteCounts(w, counts);
    });

    public static byte[] Error(GuestRefusalReason reason, string message) => Line(w =>
    {
        w.WriteString("type", "error");
        w.WriteString("code", GuestApiRefusedException.Code(reason));
        w.WriteString("message", message);
    });

    /// <summary><paramref name="now"/> - <paramref name="before"/> per (event, vCPU); a series new since then counts from 0.</summary>
    public static List<GuestCount> Delta(IReadOnlyList<GuestCount> now, IReadOnlyList<GuestCount> before)
    {
        var previous = new Dictionary<(string, int?), double>();
        foreach (var count in before)
        {
            previous[(count.Event, count.Vcpu)] = count.Value;
        }

        return now.Select(c => c with { Value = Math.Max(0, c.Value - previous.GetValueOrDefault((c.Event, c.Vcpu))) }).ToList();
    }

    private static void WriteCounts(Utf8JsonWriter w, IReadOnlyList<GuestCount> counts)
    {
        w.WriteStartArray("counters");
        foreach (var count in counts)
        {
            w.WriteStartObject();
            w.WriteString("event", count.Event);
            if (count.Vcpu is { } vcpu)
            {
                w.WriteNumber("vcpu", vcpu);
            }

            w.WriteNumber("value", Math.Round(count.Value));
            w.WriteNumber("scaling", Math.Round(count.Scaling, 4));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static byte[] Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed escaping: messages keep their quotes ('web1') readable in a shell client; JSON stays valid.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        return line;
    }
}
