using System.Globalization;
using System.Text;

namespace VmProbe.Views;

/// <summary>
/// The tracker's layout: one CSV per VM under a directory (<c>csvdir</c>), one line per cycle: timestamp, CPU, steal,
/// exits, memory, disk and network byte rates, power where measured, and a rate column per perf event.
/// </summary>
/// <remarks>
/// A VM that comes back appends to its file. A file's header is never rewritten: when a VM's columns change (an event
/// added, power now measured) or the file reaches <see cref="MaxBytes"/>, the file is moved aside (<c>NAME.csv.1</c>,
/// older ones shifted, at most <see cref="Keep"/> kept) and a new one starts with the new header. A write failure is
/// logged when it starts and when it ends, never thrown: the textfile stays the probe's health signal.
/// </remarks>
public sealed class CsvDirectoryWriter : IViewConsumer
{
    public const long DefaultMaxBytes = 16L * 1024 * 1024;
    public const int DefaultKeep = 5;

    private readonly IProbeLog _log;
    private readonly Dictionary<string, (string Header, long Size)> _files = new(StringComparer.Ordinal);
    private string? _failing;

    public CsvDirectoryWriter(string directory, IProbeLog log, long maxBytes = DefaultMaxBytes, int keep = DefaultKeep)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 256);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        Directory = directory;
        _log = log;
        MaxBytes = maxBytes;
        Keep = keep;
    }

    public string Directory { get; }

    private bool _powerMeasured;

    public long MaxBytes { get; }

    public int Keep { get; }

    /// <summary>
    /// The columns of <paramref name="row"/>'s file, in order: <c>watts</c> when the host measures power
    /// (<paramref name="powerMeasured"/>), for every VM, so that a VM without an energy share yet (its first cycle
    /// back) writes an empty cell instead of starting a new file.
    /// </summary>
    public static IReadOnlyList<string> Columns(VmViewRow row, bool powerMeasured)
    {
        var columns = new List<string> { "timestamp" };
        columns.AddRange(ViewColumns.Record.Where(c => c.Id != "watts" || powerMeasured).Select(c => c.Id));
        columns.AddRange(row.Events.Select(e => "event_" + e.Name + "_per_second"));
        return columns;
    }

    public void Show(ViewFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);

        // Whether files have the watts column is the host's (it has a meter from the first cycle on), not this cycle's
        // VMs': none has an energy share in its first interval, and a header without watts would rotate the file next.
        _powerMeasured |= frame.PowerMeasured || frame.Vms.Any(v => v.EnergyMeasured);
        if (frame.IntervalSeconds is null)
        {
            return; // no rates yet
        }

        string? failure = null;
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            failure = $"csvdir {Directory}: cannot create the directory: {error.Message}";
        }

        if (failure is null)
        {
            var timestamp = frame.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            // As --log: no row before a VM has rates (its first cycle back would be a row of empty cells).
            foreach (var row in frame.Vms.Where(vm => vm.CpuCores is not null))
            {
                try
                {
                    Append(row, timestamp);
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    failure ??= $"csvdir {Directory}: cannot write {CsvFileNames.FileName(row.Name)} (domain {row.Name}): {error.Message}";
                    _files.Remove(row.Name); // read the file again next time
                }
            }
        }

        if (failure != _failing)
        {
            _log.Write(failure is null ? LogLevel.Info : LogLevel.Warning, failure ?? $"csvdir {Directory}: writing again");
            _failing = failure;
        }
    }

    private void Append(VmViewRow row, string timestamp)
    {
        var columns = Columns(row, _powerMeasured);
        var header = string.Join(',', columns.Select(Quote));
        var path = Path.Combine(Directory, CsvFileNames.FileName(row.Name));
        var line = new StringBuilder(timestamp);
        foreach (var column in ViewColumns.Record.Where(c => c.Id != "watts" || _powerMeasured))
        {
            line.Append(',').Append(Quote(column.Record(row)));
        }

        foreach (var rate in row.Events)
        {
            line.Append(',').Append(ViewColumns.Raw(rate.PerSecond));
        }

        var bytes = Encoding.UTF8.GetBytes(line.Append('\n').ToString());
        if (!_files.TryGetValue(row.Name, out var known))
        {
            known = (ReadHeader(path) ?? string.Empty, File.Exists(path) ? new FileInfo(path).Length : 0);
        }

        var fresh = known.Size == 0;
        if (!fresh && (known.Header != header || known.Size + bytes.Length > MaxBytes))
        {
            Rotate(path);
            fresh = true;
        }

        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        using var stream = new FileStream(path, options);
        var size = fresh ? 0 : known.Size;
        if (fresh)
        {
            var head = Encoding.UTF8.GetBytes(header + "\n");
            stream.Write(head);
            size = head.Length;
        }

        stream.Write(bytes);
        _files[row.Name] = (header, size + bytes.Length);
    }

    /// <summary><c>NAME.csv</c> becomes <c>NAME.csv.1</c>, <c>.1</c> becomes <c>.2</c>...; the oldest beyond <see cref="Keep"/> goes.</summary>
    private void Rotate(string path)
    {
        if (Keep == 0)
        {
            File.Delete(path);
            return;
        }

        File.Delete($"{path}.{Keep}");
        for (var i = Keep - 1; i >= 1; i--)
        {
            if (File.Exists($"{path}.{i}"))
            {
                File.Move($"{path}.{i}", $"{path}.{i + 1}");
            }
        }

        File.Move(path, path + ".1");
    }

    private static string? ReadHeader(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        // Only the first line, bounded: a file grown by something else must not be read whole.
        using var reader = new StreamReader(path, Encoding.UTF8);
        var buffer = new char[8192];
        var read = reader.ReadBlock(buffer, 0, buffer.Length);
        var end = Array.IndexOf(buffer, '\n', 0, read);
        return end < 0 ? null : new string(buffer, 0, end);
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
