namespace VmProbe.Tests.Infrastructure;

/// <summary>Where the repository and its built parts are, seen from the test output directory.</summary>
public static class RepoPaths
{
    /// <summary>The repository root: the first directory above the test binaries holding VmProbe.psd1 and src/.</summary>
    public static string Root { get; } = FindRoot();

    public static string File(string relative) => Path.Combine(Root, relative);

    /// <summary>
    /// The console runner, built by the test project's ProjectReference but not referenced as an assembly
    /// ("vmprobe" and the module's "VmProbe" are one name to the loader): src/VmProbe.Cli/bin/CONFIG/net8.0/vmprobe.dll.
    /// </summary>
    public static string VmprobeDll
    {
        get
        {
            // The test binaries live in tests/VmProbe.Tests/bin/CONFIG/TFM/: the runner was built with the same CONFIG.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
            return Path.Combine(Root, "src", "VmProbe.Cli", "bin", configuration, "net8.0", "vmprobe.dll");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "VmProbe.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (VmProbe.psd1 and src/) above {AppContext.BaseDirectory}");
    }
}
