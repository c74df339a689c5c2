using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VmProbe.GuestApi;

/// <summary>
/// One guest request, as sent on one JSON line:
/// <c>{"events":["instructions","cache-misses"],"interval_ms":500,"vcpu":0,"duration_ms":10000,"domain":"web1"}</c>.
/// <see cref="IntervalMs"/> 0: only the final summary; <see cref="DurationMs"/> null: until the guest closes (or the ceiling).
/// <see cref="ClaimedDomain"/> is what the guest believes it is: checked against the host's answer, never trusted.
/// </summary>
public sealed record GuestRequest(IReadOnlyList<string> Events, int IntervalMs, int? Vcpu, int? DurationMs, string? ClaimedDomain)
{
    private const int MaxNameLength = 128;
    private const int MaxVcpu = 4095;

    /// <summary>Parses and checks one request line (without its newline); a <see cref="GuestApiRefusedException"/> names the field.</summary>
    public static GuestRequest Parse(ReadOnlySpan<byte> line, GuestApiLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (line.Length > limits.MaxRequestBytes)
        {
            throw Invalid(GuestRefusalReason.Oversized, $"the request is {line.Length} bytes; at most {limits.MaxRequestBytes} are read");
        }

        try
        {
            return ParseJson(line, limits);
        }
        catch (JsonException ex)
        {
            throw Invalid(GuestRefusalReason.Malformed, $"the request is not one JSON object: {FirstSentence(ex.Message)}");
        }
        catch (Exception ex) when (ex is DecoderFallbackException || ex.InnerException is DecoderFallbackException)
        {
            // GetString() wraps bad UTF-8 in an InvalidOperationException: still the guest's malformed bytes.
            throw Invalid(GuestRefusalReason.Malformed, "the request is not valid UTF-8");
        }
        catch (Exception ex) when (ex is not GuestApiRefusedException and not OutOfMemoryException)
        {
            // Whatever else the reader throws on hostile bytes is a malformed request, never a dropped connection.
            throw Invalid(GuestRefusalReason.Malformed, $"the request cannot be read: {Shorten(ex.Message)}");
        }
    }

    private static GuestRequest ParseJson(ReadOnlySpan<byte> line, GuestApiLimits limits)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(GuestRefusalReason.Malformed, "the request must be one JSON object on one line");
        }

        List<string>? events = null;
        int? interval = null, vcpu = null, duration = null;
        string? domain = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw Invalid(GuestRefusalReason.InvalidRequest, $"field '{Shorten(name)}' is given twice");
            }

            reader.Read();
            switch (name)
            {
                case "events":
                    events = ReadEvents(ref reader, limits);
                    break;
                case "interval_ms":
                    interval = ReadInt(ref reader, name, 0, limits.MaxDurationMs);
                    if (interval is > 0 && interval < limits.MinIntervalMs)
                    {
                        throw Invalid(GuestRefusalReason.InvalidRequest, $"interval_ms must be 0 (summary only) or at least {limits.MinIntervalMs}, got {interval}");
                    }

                    break;
                case "vcpu":
                    vcpu = reader.TokenType == JsonTokenType.Null ? null : ReadInt(ref reader, name, 0, MaxVcpu);
                    break;
                case "duration_ms":
                    duration = reader.TokenType == JsonTokenType.Null ? null : ReadInt(ref reader, name, 1, limits.MaxDurationMs);
                    break;
                case "domain":
                    domain = reader.TokenType == JsonTokenType.Null ? null : ReadString(ref reader, name, 256);
                    break;
                default:
                    throw Invalid(GuestRefusalReason.InvalidRequest,
                        $"unknown field '{Shorten(name)}'; the fields are events, interval_ms, vcpu, duration_ms and domain");
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw Invalid(GuestRefusalReason.Malformed, "the request must be one JSON object and nothing after it");
        }

        if (events is null || events.Count == 0)
        {
            throw Invalid(GuestRefusalReason.InvalidRequest, "events is required: a list of perf event names (instructions, cache-misses, task-clock...)");
        }

        return new GuestRequest(events, interval ?? 0, vcpu, duration, domain);
    }

    private static List<string> ReadEvents(ref Utf8JsonReader reader, GuestApiLimits limits)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(GuestRefusalReason.InvalidRequest, "events must be a list of event names");
        }

        var events = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (events.Count == limits.MaxEvents)
            {
                throw Invalid(GuestRefusalReason.InvalidRequest, $"events lists more than {limits.MaxEvents} events");
            }

            var name = ReadString(ref reader, "events", MaxNameLength);
            if (!events.Contains(name, StringComparer.Ordinal))
            {
                events.Add(name);
            }
        }

        return events;
    }

    private static int ReadInt(ref Utf8JsonReader reader, string field, int min, int max)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
        {
            throw Invalid(GuestRefusalReason.InvalidRequest, $"{field} must be a whole number from {min} to {max}");
        }

        return value >= min && value <= max
            ? (int)value
            : throw Invalid(GuestRefusalReason.InvalidRequest, string.Create(CultureInfo.InvariantCulture, $"{field} must be from {min} to {max}, got {value}"));
    }

    private static string ReadString(ref Utf8JsonReader reader, string field, int maxLength)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Invalid(GuestRefusalReason.InvalidRequest, $"{field}: expected a string");
        }

        var text = reader.GetString()!;
        if (text.Length == 0 || text.Length > maxLength || text.Any(char.IsControl))
        {
            throw Invalid(GuestRefusalReason.InvalidRequest, $"{field}: '{Shorten(text)}' must be 1 to {maxLength} printable characters");
        }

        return text;
    }

    private static string Shorten(string text)
    {
        var clean = new string(text.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return text.Length > 40 ? clean + "..." : clean;
    }

    private static string FirstSentence(string message)
    {
        var dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }

    private static GuestApiRefusedException Invalid(GuestRefusalReason reason, string message) => new(reason, message);
}
