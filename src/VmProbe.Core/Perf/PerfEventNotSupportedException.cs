namespace VmProbe.Perf;

/// <summary>The event does not exist on this host's PMUs (ENOENT, EOPNOTSUPP, ENODEV): skip it, the others still count.</summary>
public sealed class PerfEventNotSupportedException : PerfEventException
{
    public PerfEventNotSupportedException(string message, string operation, int errno, string? eventName, string? target)
        : base(message, operation, errno, eventName, target, ProbeErrorKind.NotSupported)
    {
    }
}
