using VmProbe.Libvirt;

namespace VmProbe.Composition;

/// <summary>
/// Failure state of one part of the cycle (a source, the discovery, the export), so that a part failing every cycle
/// logs once: OK to failing at Error, the same failure again at Debug, a different failure at Error, recovery at Info.
/// </summary>
internal sealed class ComponentHealth
{
    // The condition the part is failing with (see Condition), or null while it works.
    private string? _lastCondition;
    private long _consecutiveFailures;

    public ComponentHealth(string name, string role)
    {
        Name = name;
        Role = role;
    }

    public string Name { get; }

    /// <summary>What it is, for log lines: "source", "domain discovery", "export".</summary>
    public string Role { get; }

    public void Failed(Exception error, IProbeLog log)
    {
        var description = FailureText.Describe(error);
        var condition = Condition(error, description);
        _consecutiveFailures++;
        if (_lastCondition is null && error is LibvirtUnavailableException { AlreadyReported: true } unavailable)
        {
            // Every libvirt part fails on the one missing library: its full message (library, variable, fix) is logged once.
            log.Write(LogLevel.Error, $"{Role} {Name} failed: libvirt is unavailable, as logged above [{unavailable.ErrorId}]");
        }
        else if (_lastCondition is null)
        {
            log.Write(LogLevel.Error, $"{Role} {Name} failed: {description}");
            if (error is LibvirtUnavailableException first)
            {
                first.AlreadyReported = true;
            }
        }
        else if (!string.Equals(_lastCondition, condition, StringComparison.Ordinal))
        {
            log.Write(LogLevel.Error, $"{Role} {Name} failed differently: {description}");
        }
        else if (log.IsEnabled(LogLevel.Debug))
        {
            log.Write(LogLevel.Debug, $"{Role} {Name} still failing ({_consecutiveFailures} times in a row): {description}");
        }

        _lastCondition = condition;
    }

    /// <summary>
    /// What makes two failures the same condition: the text, except for a libvirt deadline, whose two forms (the call
    /// that overran, then the calls not issued behind it) alternate while libvirtd stays slow.
    /// </summary>
    private static string Condition(Exception error, string description) =>
        error is LibvirtTimeoutException timeout ? "libvirt deadline " + timeout.Function : description;

    public void Succeeded(IProbeLog log)
    {
        if (_lastCondition is null)
        {
            return;
        }

        log.Write(LogLevel.Info, $"{Role} {Name} recovered after {_consecutiveFailures} failure(s)");
        _lastCondition = null;
        _consecutiveFailures = 0;
    }
}
