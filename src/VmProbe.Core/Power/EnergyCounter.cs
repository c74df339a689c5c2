namespace VmProbe.Power;

/// <summary>One raw reading of an energy meter: its stable id, the zone and source labels, and how to turn it into joules.</summary>
/// <param name="Id">Stable per meter across cycles (the powercap directory, pmu/event/cpu, the hwmon file).</param>
/// <param name="MaxRaw">The value at which the meter wraps to 0 (powercap's max_energy_range_uj), or null when it does not wrap.</param>
/// <param name="JoulesPerUnit">The scale: 1e-6 for microjoules, the PMU event's <c>.scale</c> for perf.</param>
/// <param name="At">When it was read, in monotonic seconds (set by <see cref="PowerSource"/> right after its reader ran).</param>
internal readonly record struct EnergyReading(string Id, string Zone, string Source, ulong Raw, ulong? MaxRaw, double JoulesPerUnit, double At = 0);

/// <summary>
/// Turns a meter's raw readings into a counter that never goes backwards: the first reading counts as is, then each
/// reading adds its increase; a reading below the last is a wrap at <see cref="EnergyReading.MaxRaw"/> (the increase
/// is the way up to the maximum and on from 0), or, for a meter that does not wrap or a value above the range, a reset
/// (the counter keeps its total and goes on from the new value).
/// </summary>
internal sealed class EnergyCounter
{
    private ulong _last;
    private bool _started;
    private double _lastAt;
    private bool _resume;

    public double TotalJoules { get; private set; }

    /// <summary>Whether the counter has a previous reading (so that <see cref="Advance"/> returns an increase).</summary>
    public bool Started => _started;

    /// <summary>
    /// Seconds between the last two readings' own times (0 after the first): the interval the last increase covers,
    /// which a slow cycle (a libvirt timeout before the read) must not stretch or shrink.
    /// </summary>
    public double Seconds { get; private set; }

    /// <summary>
    /// The meter was not read this cycle (its zone went away): when it comes back its next reading is a new base, so the
    /// total goes on from where it was (no reset seen by Prometheus; the gap's energy is unknown and not counted).
    /// </summary>
    public void Suspend() => _resume = _started;

    /// <summary>Counts <paramref name="reading"/>; returns the joules since the previous reading (0 for the first).</summary>
    public double Advance(in EnergyReading reading)
    {
        if (!_started)
        {
            _started = true;
            _last = reading.Raw;
            _lastAt = reading.At;
            TotalJoules = reading.Raw * reading.JoulesPerUnit;
            return 0;
        }

        if (_resume)
        {
            (_resume, _last, _lastAt, Seconds) = (false, reading.Raw, reading.At, 0);
            return 0;
        }

        ulong increase;
        if (reading.Raw >= _last)
        {
            increase = reading.Raw - _last;
        }
        else if (reading.MaxRaw is { } max && _last <= max)
        {
            increase = max - _last + reading.Raw;
        }
        else
        {
            increase = 0;
        }

        _last = reading.Raw;
        Seconds = Math.Max(0, reading.At - _lastAt);
        _lastAt = reading.At;
        var joules = increase * reading.JoulesPerUnit;
        TotalJoules += joules;
        return joules;
    }
}
