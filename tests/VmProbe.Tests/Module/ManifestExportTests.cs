using Xunit;
using System.Xml.Linq;

namespace VmProbe.Tests.Module;

public class ManifestExportTests
{
    [Fact]
    public void CmdletsToExportEqualsTheCmdletsOfTheAssembly() =>
        Assert.Equal(ModuleMetadata.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), ModuleMetadata.ManifestList("CmdletsToExport").Order(StringComparer.Ordinal));

    [Fact]
    public void FunctionsToExportEqualsTheFunctionsOfTheScriptModule() =>
        Assert.Equal(ModuleMetadata.ScriptFunctions().Order(StringComparer.Ordinal), ModuleMetadata.ManifestList("FunctionsToExport").Order(StringComparer.Ordinal));

    [Fact]
    public void AliasesToExportEqualsTheAliasesDefined()
    {
        var defined = ModuleMetadata.Cmdlets.SelectMany(c => c.Aliases).Concat(ModuleMetadata.ScriptAliases()).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(defined, ModuleMetadata.ManifestList("AliasesToExport").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ManifestPointsAtTheModuleFiles()
    {
        Assert.Equal("VmProbe.psm1", ModuleMetadata.ManifestValue("RootModule"));
        // The loader first: its initializer must run before PowerShell reflects over the cmdlets (docs/ARCHITECTURE.md, Loading).
        Assert.Equal(new[] { "bin/VmProbe.Loader.dll", "bin/VmProbe.dll" }, ModuleMetadata.ManifestList("NestedModules"));
        Assert.Equal(new[] { "VmProbe.Format.ps1xml" }, ModuleMetadata.ManifestList("FormatsToProcess"));
        Assert.Equal(new[] { "Core" }, ModuleMetadata.ManifestList("CompatiblePSEditions"));
        Assert.Equal("7.4", ModuleMetadata.ManifestValue("PowerShellVersion"));
        Assert.True(File.Exists(Path.Combine(ModuleMetadata.RepoRoot, "VmProbe.psm1")));
        Assert.True(File.Exists(Path.Combine(ModuleMetadata.RepoRoot, "VmProbe.Format.ps1xml")));
    }

    [Fact]
    public void ManifestVersionIsTheAssemblyVersion()
    {
        var version = ModuleMetadata.ManifestValue("ModuleVersion");
        Assert.NotNull(version);
        Assert.Equal(version, ModuleMetadata.CmdletAssembly.GetName().Version!.ToString(3));
    }

    [Fact]
    public void ScriptModuleExportsItsFunctionsAndTheCmdlets()
    {
        var psm1 = ModuleMetadata.ReadRepoFile("VmProbe.psm1");
        Assert.Contains("Export-ModuleMember -Function 'Start-VmProbe' -Cmdlet '*'", psm1);
        // The loop is the engine's: the script steps it and closes it, and holds no loop logic of its own.
        Assert.Contains("Open-VmProbe", psm1);
        Assert.Contains("Invoke-VmProbeCycle", psm1);
        Assert.DoesNotContain("Start-Sleep", psm1);
        Assert.DoesNotContain("Start-VmPerfSession", psm1);
    }

    [Fact]
    public void FormatFileHasATableViewForEveryOutputType()
    {
        var format = XDocument.Load(Path.Combine(ModuleMetadata.RepoRoot, "VmProbe.Format.ps1xml"));
        var viewed = format.Descendants("TypeName").Select(e => e.Value).ToHashSet();
        foreach (var type in new[] { typeof(VmDomain), typeof(VmPerfSession), typeof(VmPerfSample), typeof(VmStatSample), typeof(VmPerfEventInfo) })
        {
            Assert.Contains(type.FullName!, viewed);
        }

        // Every column names a real property (script block columns excepted).
        foreach (var view in format.Descendants("View"))
        {
            var type = ModuleMetadata.CmdletAssembly.GetType(view.Descendants("TypeName").Single().Value)
                ?? typeof(VmDomain).Assembly.GetType(view.Descendants("TypeName").Single().Value)!;
            foreach (var property in view.Descendants("PropertyName"))
            {
                Assert.True(type.GetProperty(property.Value) is not null, $"{type.Name} has no property {property.Value}");
            }

            Assert.Equal(view.Descendants("TableColumnHeader").Count(), view.Descendants("TableColumnItem").Count());
        }
    }
}
