using System.Collections.Concurrent;
using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// The log of an engine object that outlives one command (an open probe): its lines may be written from a thread-pool
/// thread while the loop waits, and a cmdlet may write to its streams only from the pipeline thread, so lines are queued
/// and each command drains them into its own streams.
/// </summary>
internal sealed class QueuedProbeLog : IConcurrentProbeLog
{
    // Bounded: a probe stepped by nobody for a long time must not grow without limit; the newest lines are dropped.
    private const int Capacity = 1000;

    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();
    private volatile bool _verbose;
    private volatile bool _debug;

    public bool IsEnabled(LogLevel level) => level switch
    {
        LogLevel.Debug => _debug,
        LogLevel.Info => _verbose,
        _ => true,
    };

    public void Write(LogLevel level, string message)
    {
        if (IsEnabled(level) && _lines.Count < Capacity)
        {
            _lines.Enqueue((level, message));
        }
    }

    /// <summary>Takes the verbose and debug preferences of the command about to run.</summary>
    public void Listen(CmdletProbeLog commandLog)
    {
        _verbose = commandLog.IsEnabled(LogLevel.Info);
        _debug = commandLog.IsEnabled(LogLevel.Debug);
    }

    /// <summary>Writes the queued lines to the command's streams; call on the pipeline thread.</summary>
    public void Drain(CmdletProbeLog commandLog)
    {
        while (_lines.TryDequeue(out var line))
        {
            commandLog.Write(line.Level, line.Message);
        }
    }
}
