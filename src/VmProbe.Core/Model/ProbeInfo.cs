using System.Reflection;

namespace VmProbe;

/// <summary>Facts about this build, for <c>probe_info</c> and <c>--version</c>.</summary>
public static class ProbeInfo
{
    /// <summary>The version from VmProbe.psd1 (the assembly's informational version without build metadata).</summary>
    public static string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        var informational = typeof(ProbeInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(ProbeInfo).Assembly.GetName().Version?.ToString()
            ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
