using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>Routes engine log lines to the cmdlet's debug, verbose and warning streams. Use on the pipeline thread only.</summary>
internal sealed class CmdletProbeLog : IProbeLog
{
    private readonly Cmdlet _cmdlet;
    private readonly bool _verbose;
    private readonly bool _debug;

    public CmdletProbeLog(PSCmdlet cmdlet)
    {
        _cmdlet = cmdlet;
        _verbose = IsOn(cmdlet, "Verbose", "VerbosePreference");
        _debug = IsOn(cmdlet, "Debug", "DebugPreference");
    }

    public bool IsEnabled(LogLevel level) => level switch
    {
        LogLevel.Debug => _debug,
        LogLevel.Info => _verbose,
        _ => true,
    };

    public void Write(LogLevel level, string message)
    {
        switch (level)
        {
            case LogLevel.Debug:
                _cmdlet.WriteDebug(message);
                break;
            case LogLevel.Info:
                _cmdlet.WriteVerbose(message);
                break;
            default:
                _cmdlet.WriteWarning(message);
                break;
        }
    }

    private static bool IsOn(PSCmdlet cmdlet, string switchName, string preferenceVariable)
    {
        if (cmdlet.MyInvocation.BoundParameters.TryGetValue(switchName, out var value) && value is SwitchParameter sw)
        {
            return sw.IsPresent;
        }

        return cmdlet.GetVariableValue(preferenceVariable) is ActionPreference preference
            && preference != ActionPreference.SilentlyContinue
            && preference != ActionPreference.Ignore;
    }
}
