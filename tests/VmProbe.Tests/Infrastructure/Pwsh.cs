namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// The real pwsh (test.sh installs PowerShell 7.6.9 as a .NET tool into ~/.dotnet/tools) and the module as build.ps1
/// -Task Package publishes it (test.sh packages before the tests run). Tests call
/// <c>Skip.IfNot(Pwsh.IsAvailable, Pwsh.UnavailableReason)</c> first.
/// </summary>
public static class Pwsh
{
    public static string? ExecutablePath { get; } = Requirements.FindCommand("pwsh") ?? ToolPath();

    /// <summary>The newest output/VmProbe/VERSION/VmProbe.psd1, or null when the module was not packaged.</summary>
    public static string? ModuleManifest { get; } = FindManifest();

    public static bool IsAvailable => ExecutablePath is not null && ModuleManifest is not null;

    public static string UnavailableReason => ExecutablePath is null
        ? "pwsh is not installed (test.sh installs it: dotnet tool install --global PowerShell --version 7.6.9)"
        : $"the module is not packaged under {RepoPaths.File("output/VmProbe")} (./build.ps1 -Task Package)";

    /// <summary>Runs <paramref name="script"/> in a new pwsh with the packaged module imported.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string script, int timeoutMs = 120_000)
    {
        var path = ExecutablePath ?? throw new InvalidOperationException(UnavailableReason);
        var full = $"$ErrorActionPreference = 'Stop'; Import-Module -Name '{ModuleManifest!.Replace("'", "''", StringComparison.Ordinal)}'; {script}";
        return Requirements.Run(path, "-NoProfile -NonInteractive -Command -", stdin: full, timeoutMs: timeoutMs);
    }

    private static string? ToolPath()
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        var tool = home is null ? null : Path.Combine(home, ".dotnet", "tools", "pwsh");
        return tool is not null && File.Exists(tool) ? tool : null;
    }

    private static string? FindManifest()
    {
        var output = new DirectoryInfo(RepoPaths.File("output/VmProbe"));
        if (!output.Exists)
        {
            return null;
        }

        return output.GetDirectories()
            .Where(d => Version.TryParse(d.Name, out _) && File.Exists(Path.Combine(d.FullName, "VmProbe.psd1")))
            .OrderByDescending(d => Version.Parse(d.Name))
            .Select(d => Path.Combine(d.FullName, "VmProbe.psd1"))
            .FirstOrDefault();
    }
}
