namespace VmProbe.Commands.Engine;

/// <summary>
/// Where the cmdlets find the engine: thin adapters over VmProbe.Core. Tests may replace one service (one assignment).
/// </summary>
internal static class EngineServices
{
    public static IDomainProvider Domains { get; set; } = new CoreDomainProvider();

    public static IPerfEventCatalog PerfCatalog { get; set; } = new CorePerfEventCatalog();

    public static IPerfSessionEngine PerfSessions { get; set; } = new CorePerfSessionEngine();

    public static ISchedStatReader SchedStats { get; set; } = new CoreSchedStatReader();

    public static IDomainStatReader DomainStats { get; set; } = new CoreDomainStatReader();

    public static IHostStatReader HostStats { get; set; } = new CoreHostStatReader();

    public static IConfigLoader Config { get; set; } = new CoreConfigLoader();

    public static IPromTextWriter PromText { get; set; } = new CorePromTextWriter();
}
