using Xunit;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Module;

/// <summary>scripts/publish-module.sh (build.ps1 -Task Package through pwsh) produces a module folder Import-Module can load as is.</summary>
public class PublishModuleTests
{
    [SkippableFact]
    public void PublishScriptLaysOutTheModuleFolder()
    {
        var bash = Requirements.FindCommand("bash");
        Skip.If(bash is null, "bash is not installed");
        Skip.If(Requirements.FindCommand("dotnet") is null, "dotnet is not on PATH");
        // test.sh installs pwsh before the xunit run (scripts/install-pwsh.sh); a bare `dotnet test` may not have it.
        Skip.If(Requirements.FindCommand("pwsh") is null, "pwsh is not on PATH (scripts/install-pwsh.sh installs it; publish-module.sh runs build.ps1)");

        var output = Path.Combine(Path.GetTempPath(), $"vmprobe-publish-{Guid.NewGuid():N}");
        try
        {
            var script = Path.Combine(ModuleMetadata.RepoRoot, "scripts", "publish-module.sh");
            var (exitCode, stdout, stderr) = Requirements.Run(bash!, $"\"{script}\" \"{output}\" Release", timeoutMs: 600_000);
            Assert.True(exitCode == 0, $"publish-module.sh exit {exitCode}:\n{stdout}\n{stderr}");

            var version = ModuleMetadata.ManifestValue("ModuleVersion")!;
            var module = Path.Combine(output, "VmProbe", version);
            Assert.Equal(module, stdout.Trim());
            foreach (var file in new[] { "VmProbe.psd1", "VmProbe.psm1", "VmProbe.Format.ps1xml", "bin/VmProbe.Loader.dll", "bin/VmProbe.dll", "bin/lib/VmProbe.Core.dll", "bin/lib/YamlDotNet.dll", "LICENSE",
                "en-US/about_VmProbe.help.txt", "en-US/VmProbe.dll-Help.xml", "bin/en-US/VmProbe.dll-Help.xml", "en-US/VmProbe-help.xml" })
            {
                Assert.True(File.Exists(Path.Combine(module, file)), $"{file} missing from {module}");
            }

            Assert.False(File.Exists(Path.Combine(module, "bin", "System.Management.Automation.dll")), "the reference stub must not ship");
            Assert.False(File.Exists(Path.Combine(module, "bin", "lib", "System.Management.Automation.dll")), "the reference stub must not ship");
            // Beside VmProbe.dll, VmProbe.Core or YamlDotNet would load in the default context, shared with other modules.
            Assert.Equal(new[] { "VmProbe.Loader.dll", "VmProbe.dll" }, Directory.GetFiles(Path.Combine(module, "bin"), "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var exported = ModuleMetadata.ManifestList("CmdletsToExport").Concat(ModuleMetadata.ManifestList("FunctionsToExport"));
            foreach (var command in exported)
            {
                Assert.True(File.Exists(Path.Combine(module, "en-US", command + ".md")), $"help for {command} missing");
            }

            Assert.Equal(ModuleMetadata.ReadRepoFile("VmProbe.psd1"), File.ReadAllText(Path.Combine(module, "VmProbe.psd1")));
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
