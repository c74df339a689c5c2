using System.Text.RegularExpressions;
using Xunit;

namespace VmProbe.Tests.Module;

/// <summary>
/// What can be checked of the Pester files without pwsh: they import the built module through
/// tests/VmProbe.TestSupport.ps1, and their -Skip:/-ForEach arguments, which Pester evaluates at Discovery, use only
/// variables that exist then (BeforeAll runs later: a -Skip: on a BeforeAll variable fails the file's Discovery).
/// </summary>
public class PesterFilesTests
{
    private const string SupportScript = "VmProbe.TestSupport.ps1";
    private const string DotSource = ". \"$PSScriptRoot/" + SupportScript + "\"";

    // Automatic variables, defined in both phases.
    private static readonly string[] Automatic = { "IsLinux", "IsWindows", "IsMacOS", "true", "false", "null", "_", "PSScriptRoot", "PSVersionTable" };

    private static string TestsDir => Path.Combine(ModuleMetadata.RepoRoot, "tests");

    public static TheoryData<string> PesterFiles()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestsDir, "*.Tests.ps1").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void SupportScriptResolvesTheBuiltModule()
    {
        var support = Read(SupportScript);
        Assert.Contains("function Resolve-VmProbeManifest", support);
        Assert.Contains("$env:VMPROBE_MODULE_PATH", support);
        Assert.Contains("'output/VmProbe'", support);
        Assert.Contains("./build.ps1 -Task Package", support);
        Assert.Equal(new[] { "isRoot", "libvirtPresent", "repoRoot" }, TopLevelAssignments(support).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(PesterFiles))]
    public void ImportsTheBuiltModuleThroughTheSupportScript(string file)
    {
        var text = Read(file);
        var beforeAll = Blocks(text, "BeforeAll").Where(b => b.Indent.Length == 0).ToArray();
        Assert.True(beforeAll.Length == 1, $"{file}: expected one top-level BeforeAll block, found {beforeAll.Length}");
        Assert.True(beforeAll[0].Body.Contains(DotSource, StringComparison.Ordinal), $"{file}: the top-level BeforeAll does not run {DotSource}");
        Assert.True(beforeAll[0].Body.Contains("Resolve-VmProbeManifest", StringComparison.Ordinal), $"{file}: the top-level BeforeAll does not call Resolve-VmProbeManifest");
        Assert.False(text.Contains("$env:VMPROBE_MODULE_PATH", StringComparison.OrdinalIgnoreCase), $"{file}: reads VMPROBE_MODULE_PATH itself instead of through {SupportScript}");
    }

    [Theory]
    [MemberData(nameof(PesterFiles))]
    public void DiscoveryArgumentsUseOnlyDiscoveryVariables(string file)
    {
        var text = Read(file);
        var known = new HashSet<string>(Automatic, StringComparer.OrdinalIgnoreCase);
        foreach (var block in Blocks(text, "BeforeDiscovery"))
        {
            known.UnionWith(Regex.Matches(block.Body, @"(?m)^\s*\$(?:script:)?(\w+)\s*=").Select(m => m.Groups[1].Value));
            if (block.Body.Contains(DotSource, StringComparison.Ordinal))
            {
                known.UnionWith(TopLevelAssignments(Read(SupportScript)));
            }
        }

        foreach (var (line, argument) in DiscoveryArguments(text))
        {
            // $env:NAME is no variable of the script (the lookahead skips it).
            foreach (Match variable in Regex.Matches(argument, @"\$(?:(?:script|global):)?(\w+)\b(?!:)"))
            {
                var name = variable.Groups[1].Value;
                Assert.True(known.Contains(name), $"{file}:{line}: ${name} in '{argument}' is evaluated at Discovery, but no BeforeDiscovery block sets it");
            }
        }
    }

    [Fact]
    public void DiscoveryCheckRejectsABeforeAllVariable()
    {
        // Guards the check above: the -Skip: that once failed VmProbe.Module.Tests.ps1's Discovery.
        const string text = "BeforeAll {\n    $script:manifestPath = 'x'\n}\n\nDescribe 'd' {\n    It 'i' -Skip:(-not (Test-Path (Split-Path $script:manifestPath))) {\n    }\n}\n";
        var arguments = DiscoveryArguments(text).ToArray();
        Assert.Equal(new[] { (6, "-not (Test-Path (Split-Path $script:manifestPath))") }, arguments);
        Assert.Empty(Blocks(text, "BeforeDiscovery"));
        Assert.Single(Blocks(text, "BeforeAll"));
    }

    private static string Read(string file) => File.ReadAllText(Path.Combine(TestsDir, file)).Replace("\r\n", "\n");

    private static IEnumerable<string> TopLevelAssignments(string script) =>
        Regex.Matches(script, @"(?m)^\$(\w+)\s*=").Select(m => m.Groups[1].Value);

    /// <summary>Blocks <c>Keyword {</c> ... <c>}</c>, the closing brace on its own line at the opening line's indentation.</summary>
    private static IEnumerable<(string Indent, string Body)> Blocks(string text, string keyword)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Regex.Match(lines[i], @"^(?<indent>\s*)" + keyword + @"\s*\{\s*$");
            if (!open.Success)
            {
                continue;
            }

            var indent = open.Groups["indent"].Value;
            var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == indent + "}");
            Assert.True(end > i, $"{keyword} block at line {i + 1} has no closing brace at its indentation");
            yield return (indent, string.Join('\n', lines[(i + 1)..end]));
        }
    }

    /// <summary>Arguments Pester evaluates at Discovery: -Skip:(...), -Skip:$x, -ForEach/-TestCases $x, with their line numbers.</summary>
    private static IEnumerable<(int Line, string Argument)> DiscoveryArguments(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            foreach (Match skip in Regex.Matches(line, @"-Skip:\("))
            {
                var start = skip.Index + skip.Length;
                var depth = 1;
                var end = start;
                for (; end < line.Length && depth > 0; end++)
                {
                    depth += line[end] == '(' ? 1 : line[end] == ')' ? -1 : 0;
                }

                Assert.True(depth == 0, $"line {i + 1}: unbalanced -Skip:( argument");
                yield return (i + 1, line[start..(end - 1)]);
            }

            foreach (Match simple in Regex.Matches(line, @"-(?:Skip:|ForEach\s+|TestCases\s+)(\$[\w:]+)"))
            {
                yield return (i + 1, simple.Groups[1].Value);
            }
        }
    }
}
