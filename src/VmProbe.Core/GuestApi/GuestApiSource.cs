namespace VmProbe.GuestApi;

/// <summary>What the guest endpoint is built from: where to listen, the libvirt URI peers are checked against, the limits.</summary>
public sealed record GuestApiOptions(IReadOnlyList<GuestApiAddress> Addresses, string LibvirtUri, GuestApiLimits? Limits = null);

/// <summary>
/// The guest endpoint as a source of the probe: its Collect hands the cycle's domains to the endpoint (one volatile write),
/// starts listening on the first cycle (again on every cycle while binding fails, which counts in probe_errors_total),
/// and writes the endpoint's counters. The endpoint itself runs on its own threads; Collect never waits for it.
/// </summary>
public sealed class GuestApiSource : IMetricSource
{
    public const string SourceName = "guestapi";

    private readonly GuestApiOptions options;
    private readonly IProbeLog log;
    private readonly Func<IGuestPeerResolver> createResolver;
    private IReadOnlyList<VmDomain> domains = Array.Empty<VmDomain>();
    private GuestApiServer? server;
    private IGuestPeerResolver? resolver;

    public GuestApiSource(GuestApiOptions options, IProbeLog log, Func<IGuestPeerResolver>? createResolver = null)
    {
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        this.log = log ?? throw new ArgumentNullException(nameof(log));
        this.createResolver = createResolver ?? (() => new LibvirtPeerResolver(options.LibvirtUri, log));
    }

    public string Name => SourceName;

    /// <summary>The running endpoint (null until the first cycle bound it).</summary>
    public GuestApiServer? Server => server;

    public void Collect(CycleContext context, MetricSet metrics)
    {
        Volatile.Write(ref domains, context.Domains);
        if (server is null)
        {
            resolver ??= createResolver();
            server = GuestApiServer.Start(options.Addresses, resolver, () => Volatile.Read(ref domains), log, options.Limits);
            log.Write(LogLevel.Info, $"guestapi: listening on {string.Join(", ", options.Addresses)}");
        }

        var stats = server.Stats;
        metrics.Family(GuestApiFamilies.Sessions).Add(stats.SessionsActive);
        metrics.Family(GuestApiFamilies.SessionsStarted).Add(stats.SessionsStarted);
        var refusals = metrics.Family(GuestApiFamilies.Refusals);
        foreach (var reason in Enum.GetValues<GuestRefusalReason>())
        {
            refusals.Add(stats.Refusals(reason), GuestApiRefusedException.Code(reason));
        }
    }

    public void Dispose()
    {
        server?.Dispose();
        (resolver as IDisposable)?.Dispose();
    }
}
