namespace VmProbe;

/// <summary>
/// One domain's energy in one zone (Read-VmPower): <see cref="EnergyJoules"/> attributed since the module first read
/// power, and <see cref="Watts"/> over the <see cref="Interval"/> since the previous reading (null for the first).
/// <see cref="Model"/> says how the energy was divided (<c>cycles</c>, <c>cpu_time</c>, <c>none</c>) and
/// <see cref="Source"/> which meter the zone follows (<c>perf</c>, <c>powercap</c>, <c>hwmon</c>).
/// </summary>
public sealed class VmPowerSample
{
    public required string Domain { get; init; }

    public Guid Uuid { get; init; }

    public required string Zone { get; init; }

    public required string Model { get; init; }

    public required string Source { get; init; }

    /// <summary>The zone's idle estimate: <c>fitted</c> (kept apart from the VMs) or <c>unknown</c> (nothing taken as idle yet).</summary>
    public string Idle { get; init; } = "unknown";

    public double EnergyJoules { get; init; }

    public double? Watts { get; init; }

    public TimeSpan? Interval { get; init; }

    public DateTimeOffset Timestamp { get; init; }
}
