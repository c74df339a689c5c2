using System.Text;
using VmProbe.Views;

namespace VmProbe.Cli.Top;

/// <summary>
/// <c>vmprobe top --log [--csv]</c>: one line per VM per interval with a UTC timestamp, the header once, no banners.
/// Text lines are space-separated (a name with spaces or quotes is quoted, "-" for no value); CSV lines follow RFC 4180.
/// The first cycle has no rates and writes nothing.
/// </summary>
internal sealed class ViewLogWriter : IViewConsumer
{
    private readonly TextWriter _out;
    private readonly bool _csv;
    private readonly Func<string, bool> _filter;
    private bool _headerWritten;

    public ViewLogWriter(TextWriter output, bool csv, Func<string, bool> filter)
    {
        _out = output;
        _csv = csv;
        _filter = filter;
    }

    public static IReadOnlyList<string> Header { get; } = new[] { "timestamp", "domain" }.Concat(ViewColumns.Record.Select(c => c.Id)).ToList();

    public void Show(ViewFrame frame)
    {
        if (frame.IntervalSeconds is null)
        {
            return;
        }

        var text = new StringBuilder();
        if (!_headerWritten)
        {
            text.Append(string.Join(_csv ? "," : " ", Header)).Append('\n');
            _headerWritten = true;
        }

        var timestamp = frame.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var vm in frame.Vms.Where(vm => _filter(vm.Name)))
        {
            var fields = new List<string> { timestamp, vm.Name };
            fields.AddRange(ViewColumns.Record.Select(c => c.Record(vm)));
            text.Append(_csv
                ? string.Join(',', fields.Select(CsvField))
                : string.Join(' ', fields.Select(TextField))).Append('\n');
        }

        _out.Write(text.ToString());
        _out.Flush();
    }

    private static string CsvField(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>"-" for empty; a field with whitespace, a quote, a backslash or a control character quoted with C escapes.</summary>
    private static string TextField(string field)
    {
        if (field.Length == 0)
        {
            return "-";
        }

        if (!field.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '\\'))
        {
            return field;
        }

        var quoted = new StringBuilder("\"");
        foreach (var c in field)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }
}
