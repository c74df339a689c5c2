namespace VmProbe.Power;

/// <summary>The power source's part of the config.</summary>
public sealed record PowerOptions
{
    /// <summary>The longest a powermeter run may take: the probe's delay, capped here.</summary>
    public static readonly TimeSpan MaxPowermeterTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The sysfs mount point; null for <c>$VMPROBE_SYSFS</c>, else <c>/sys</c>.</summary>
    public string? Sysfs { get; init; }

    /// <summary><c>powermeter</c>: a shell command printing the platform's power in watts, or null.</summary>
    public string? Powermeter { get; init; }

    public TimeSpan PowermeterTimeout { get; init; } = MaxPowermeterTimeout;

    /// <summary>How long the powermeter's last reading is reported when no new one comes (the runner: three intervals); null for no limit.</summary>
    public TimeSpan? PowermeterMaxAge { get; init; }
}
