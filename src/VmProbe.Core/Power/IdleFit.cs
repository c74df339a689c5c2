namespace VmProbe.Power;

/// <summary>
/// A zone's idle power as the intercept of a least-squares line of interval power against the host's busy CPU
/// fraction (running sums over every interval seen), clamped to [0, lowest interval power seen]. Until the busy
/// fractions have spread (at least <see cref="MinIntervals"/> intervals with a standard deviation of at least
/// <see cref="MinSpread"/>) and the line rises with load, the idle power is unknown: a single interval, or a host
/// that never changes its load, cannot tell idle power from active power, and taking either as idle would give busy
/// VMs 0 W.
/// </summary>
internal sealed class IdleFit
{
    public const int MinIntervals = 3;

    public const double MinSpread = 0.05;

    private double _n, _u, _uu, _p, _up;

    /// <summary>The lowest average power over one interval seen so far (any interval, with or without a busy fraction).</summary>
    public double? LowestWatts { get; private set; }

    /// <summary>The fitted idle power, or null while unknown.</summary>
    public double? IdleWatts { get; private set; }

    /// <summary>Counts one interval's average power and, when known, the host's busy fraction over it.</summary>
    public void Add(double watts, double? busyFraction)
    {
        if (!double.IsFinite(watts) || watts < 0)
        {
            return;
        }

        LowestWatts = LowestWatts is { } low ? Math.Min(low, watts) : watts;
        if (busyFraction is { } u && double.IsFinite(u))
        {
            u = Math.Clamp(u, 0, 1);
            (_n, _u, _uu, _p, _up) = (_n + 1, _u + u, _uu + (u * u), _p + watts, _up + (u * watts));
        }

        IdleWatts = Fit();
    }

    private double? Fit()
    {
        var variance = (_uu / _n) - ((_u / _n) * (_u / _n)); // NaN while _n is 0
        if (_n < MinIntervals || !(variance >= MinSpread * MinSpread))
        {
            return null;
        }

        var slope = ((_n * _up) - (_u * _p)) / ((_n * _uu) - (_u * _u));
        if (!(slope > 0))
        {
            return null; // power does not rise with load (another load dominates): no idle to read off
        }

        var intercept = (_p - (slope * _u)) / _n;
        return Math.Clamp(intercept, 0, LowestWatts ?? 0);
    }
}
