using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>Whether an event could be opened on a target, and if not why (errno and text). Unsupported events never stop the others.</summary>
public sealed record PerfEventStatus(PerfEventSpec Event, bool Supported, int Errno = 0, string? Reason = null)
{
    /// <summary>The errno's name (<c>ENOENT</c>), or null when supported.</summary>
    public string? ErrnoName => Errno == 0 ? null : Native.Errno.Name(Errno);

    /// <summary>Stable id like <c>perf_event_open,ENOENT</c>, or null when supported.</summary>
    public string? ErrorId => Errno == 0 ? null : "perf_event_open," + Native.Errno.Name(Errno);

    public override string ToString() => Supported ? $"{Event}: supported" : $"{Event}: unsupported ({ErrnoName}: {Reason})";
}
