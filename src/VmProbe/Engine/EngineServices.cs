namespace VmProbe.Commands.Engine;

/// <summary>
/// Where the cmdlets find the engine. Every service starts as <see cref="UnwiredEngine"/>; the engine's
/// implementations replace them here (one assignment each) as they land.
/// </summary>
internal static class EngineServices
{
    public static IDomainProvider Domains { get; set; } = UnwiredEngine.Instance;

    public static IPerfEventCatalog PerfCatalog { get; set; } = UnwiredEngine.Instance;

    public static IPerfSessionEngine PerfSessions { get; set; } = UnwiredEngine.Instance;

    public static ISchedStatReader SchedStats { get; set; } = UnwiredEngine.Instance;

    public static IDomainStatReader DomainStats { get; set; } = UnwiredEngine.Instance;

    public static IHostStatReader HostStats { get; set; } = UnwiredEngine.Instance;

    public static IConfigLoader Config { get; set; } = UnwiredEngine.Instance;

    public static IPromTextWriter PromText { get; set; } = UnwiredEngine.Instance;
}
