using Xunit;
using System.Text.RegularExpressions;

namespace VmProbe.Tests.Module;

/// <summary>Every exported command has a platyPS page that documents exactly its parameters.</summary>
public class HelpDocsTests
{
    private static readonly string[] Sections = { "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "## PARAMETERS", "## INPUTS", "## OUTPUTS" };

    public static TheoryData<string> ExportedCommands()
    {
        var data = new TheoryData<string>();
        foreach (var name in ModuleMetadata.ManifestList("CmdletsToExport").Concat(ModuleMetadata.ManifestList("FunctionsToExport")))
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExportedCommands))]
    public void PageHasThePlatyPsStructure(string command)
    {
        var page = ReadPage(command);
        var isFunction = ModuleMetadata.ScriptFunctions().Contains(command);
        Assert.Matches(@"^---\n", page);
        Assert.Contains(isFunction ? "external help file: VmProbe-help.xml" : "external help file: VmProbe.dll-Help.xml", page);
        Assert.Contains("Module Name: VmProbe", page);
        Assert.Contains($"\n# {command}\n", page);
        foreach (var section in Sections)
        {
            Assert.Contains("\n" + section + "\n", page);
        }

        Assert.Matches(@"### Example 1", page);
        Assert.Contains("```powershell", page);
        Assert.Contains("### CommonParameters", page);
    }

    [Theory]
    [MemberData(nameof(ExportedCommands))]
    public void PageDocumentsExactlyTheCommandsParameters(string command)
    {
        var documented = Regex.Matches(ReadPage(command), @"^### -(\w+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(ExpectedParameters(command).Order(StringComparer.Ordinal), documented);
    }

    [Theory]
    [MemberData(nameof(ExportedCommands))]
    public void SyntaxNamesEveryParameter(string command)
    {
        var page = ReadPage(command);
        var syntax = page[page.IndexOf("## SYNTAX", StringComparison.Ordinal)..page.IndexOf("## DESCRIPTION", StringComparison.Ordinal)];
        foreach (var parameter in ExpectedParameters(command))
        {
            Assert.Contains("-" + parameter, syntax);
        }
    }

    [Fact]
    public void CmdletParameterBlocksMatchTheAttributes()
    {
        foreach (var cmdlet in ModuleMetadata.Cmdlets)
        {
            var page = ReadPage(cmdlet.Name);
            foreach (var parameter in cmdlet.Parameters)
            {
                var block = Regex.Match(page, @"^### -" + parameter.Name + @"\s*\n[^#]*?```yaml\n(?<yaml>.*?)```", RegexOptions.Multiline | RegexOptions.Singleline);
                Assert.True(block.Success, $"{cmdlet.Name}: no yaml block for -{parameter.Name}");
                var yaml = block.Groups["yaml"].Value;
                Assert.True(yaml.Contains($"Type: {parameter.Type.Name}\n"), $"{cmdlet.Name} -{parameter.Name}: expected Type: {parameter.Type.Name}");
                var required = parameter.Sets.Any(s => s.Mandatory);
                Assert.True(yaml.Contains($"Required: {required}\n"), $"{cmdlet.Name} -{parameter.Name}: expected Required: {required}");
                var byValue = parameter.Sets.Any(s => s.ValueFromPipeline);
                var byName = parameter.Sets.Any(s => s.ValueFromPipelineByPropertyName);
                var pipeline = (byValue, byName) switch
                {
                    (true, true) => "True (ByPropertyName, ByValue)",
                    (true, false) => "True (ByValue)",
                    (false, true) => "True (ByPropertyName)",
                    _ => "False",
                };
                Assert.True(yaml.Contains($"Accept pipeline input: {pipeline}\n"), $"{cmdlet.Name} -{parameter.Name}: expected pipeline input {pipeline}");
                var position = parameter.Sets.Select(s => s.Position).FirstOrDefault(p => p is not null);
                Assert.True(yaml.Contains($"Position: {(position is null ? "Named" : position.Value.ToString())}\n"), $"{cmdlet.Name} -{parameter.Name}: position");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ExportedCommands))]
    public void EveryParameterAndExampleHasTheTextGetHelpShows(string command)
    {
        // build/ConvertTo-MamlHelp.ps1 (and platyPS) take a parameter's description from the text between its
        // heading and its yaml block, and an example's code from its powershell fence: an empty one is a blank in Get-Help.
        var page = ReadPage(command);
        foreach (Match parameter in Regex.Matches(page, @"^### -(\w+)[ \t]*\n(?<text>.*?)^```yaml", RegexOptions.Multiline | RegexOptions.Singleline))
        {
            Assert.False(string.IsNullOrWhiteSpace(parameter.Groups["text"].Value), $"{command}.md: -{parameter.Groups[1].Value} has no description before its yaml block");
        }

        var examples = page[page.IndexOf("## EXAMPLES", StringComparison.Ordinal)..page.IndexOf("## PARAMETERS", StringComparison.Ordinal)];
        foreach (var example in Regex.Split(examples, @"^### ", RegexOptions.Multiline).Skip(1))
        {
            Assert.True(Regex.IsMatch(example, @"^```powershell\n\S", RegexOptions.Multiline), $"{command}.md: example '{example.Split('\n')[0]}' has no powershell code block");
        }
    }

    [Fact]
    public void AboutTopicExists()
    {
        var about = File.ReadAllText(Path.Combine(ModuleMetadata.RepoRoot, "docs", "en-US", "about_VmProbe.md"));
        Assert.Contains("## about_VmProbe", about);
        Assert.Contains("# SHORT DESCRIPTION", about);
        Assert.Contains("# LONG DESCRIPTION", about);
    }

    private static IEnumerable<string> ExpectedParameters(string command)
    {
        if (ModuleMetadata.ScriptFunctions().Contains(command))
        {
            return ModuleMetadata.ScriptFunctionParameters(command);
        }

        var cmdlet = ModuleMetadata.Cmdlet(command);
        var names = cmdlet.Parameters.Select(p => p.Name);
        return cmdlet.SupportsShouldProcess ? names.Concat(new[] { "WhatIf", "Confirm" }) : names;
    }

    private static string ReadPage(string command)
    {
        var path = Path.Combine(ModuleMetadata.RepoRoot, "docs", "en-US", command + ".md");
        Assert.True(File.Exists(path), $"no help page {path}");
        return File.ReadAllText(path).Replace("\r\n", "\n");
    }
}
