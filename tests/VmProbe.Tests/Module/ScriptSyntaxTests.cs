using Xunit;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Module;

/// <summary>Every PowerShell file of the repository parses (tree-sitter-powershell via tests/tools/ps-parse.js; run `npm ci` there first).</summary>
public class ScriptSyntaxTests
{
    [SkippableFact]
    public void EveryPowerShellFileParses()
    {
        var node = Requirements.FindCommand("node");
        Skip.If(node is null, "node is not installed");
        var tools = Path.Combine(ModuleMetadata.RepoRoot, "tests", "tools");
        Skip.IfNot(Directory.Exists(Path.Combine(tools, "node_modules", "tree-sitter-powershell")), "tests/tools/node_modules is missing: run `npm ci` in tests/tools");

        var files = Directory.EnumerateFiles(ModuleMetadata.RepoRoot, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".ps1", StringComparison.Ordinal) || f.EndsWith(".psm1", StringComparison.Ordinal) || f.EndsWith(".psd1", StringComparison.Ordinal))
            .Where(f => !f.Contains("/node_modules/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)
                && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/output/", StringComparison.Ordinal) && !f.Contains("/.git/", StringComparison.Ordinal))
            .ToArray();
        Assert.Contains(files, f => f.EndsWith("VmProbe.psm1", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("build.ps1", StringComparison.Ordinal));

        var arguments = string.Join(' ', new[] { Path.Combine(tools, "ps-parse.js") }.Concat(files).Select(f => $"\"{f}\""));
        var (exitCode, stdout, stderr) = Requirements.Run(node!, arguments);
        Assert.True(exitCode == 0, $"ps-parse.js exit {exitCode}:\n{stdout}{stderr}");
    }

    [SkippableFact]
    public void ParserRejectsBrokenScript()
    {
        // Guards the check above against a parser that accepts everything.
        var node = Requirements.FindCommand("node");
        Skip.If(node is null, "node is not installed");
        var tools = Path.Combine(ModuleMetadata.RepoRoot, "tests", "tools");
        Skip.IfNot(Directory.Exists(Path.Combine(tools, "node_modules", "tree-sitter-powershell")), "tests/tools/node_modules is missing: run `npm ci` in tests/tools");

        var broken = Path.Combine(Path.GetTempPath(), $"vmprobe-broken-{Guid.NewGuid():N}.ps1");
        File.WriteAllText(broken, "function Get-Thing {\n    if ($x {\n        'no closing paren'\n    }\n");
        try
        {
            var (exitCode, stdout, _) = Requirements.Run(node!, $"\"{Path.Combine(tools, "ps-parse.js")}\" \"{broken}\"");
            Assert.Equal(1, exitCode);
            Assert.Contains(broken + ":", stdout);
        }
        finally
        {
            File.Delete(broken);
        }
    }
}
