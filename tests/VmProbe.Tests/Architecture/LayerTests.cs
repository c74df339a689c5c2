using System.Text.RegularExpressions;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Architecture;

/// <summary>
/// The layer table of docs/ARCHITECTURE.md, checked on the engine's sources: each folder of src/VmProbe.Core imports
/// only the folders below it, and the folders' import graph has no cycle. An import is a <c>using VmProbe.X;</c> or a
/// qualified <c>VmProbe.X.</c> reference; it resolves, type by type, to the folders that declare the types the file
/// names, so a public name kept in another namespace (<c>VmProbe.Config.PerfAttribution</c>, declared by Perf/) counts
/// where it is declared. A using whose namespace lives in a forbidden folder and names none of its types is an import
/// of that folder too.
/// </summary>
public class LayerTests
{
    private const string Model = "Model";
    private const string Native = "Native";
    private const string Procfs = "Procfs";
    private static readonly string[] Sources = { Procfs, "Libvirt", "Perf", "Kvm", "Bpf", "Power" };

    /// <summary>ARCHITECTURE.md's table: what each folder may import (besides itself).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> MayImport = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Native] = Array.Empty<string>(),
        [Model] = Array.Empty<string>(),
        [Procfs] = new[] { "Bpf", Model, Native },
        ["Libvirt"] = new[] { Procfs, Model, Native },
        ["Perf"] = new[] { Procfs, Model, Native },
        ["Kvm"] = new[] { Procfs, "Perf", "Bpf", Model, Native },
        ["Bpf"] = new[] { Model, Native },
        ["Power"] = new[] { "Perf", Model, Native },
        ["Prometheus"] = Sources.Concat(new[] { Model, Native }).ToArray(),
        ["GuestApi"] = Sources.Concat(new[] { Model, Native }).ToArray(),
        ["Config"] = Sources.Concat(new[] { "GuestApi", Model, Native }).ToArray(),
        ["Views"] = Sources.Concat(new[] { Model }).ToArray(),
        ["Composition"] = Sources.Concat(new[] { "Prometheus", "Config", "Views", "GuestApi", Model, Native }).ToArray(),
    };

    /// <summary>Public names kept in another folder's namespace: file -> its namespace.</summary>
    private static readonly IReadOnlyDictionary<string, string> NamespaceExceptions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Perf/PerfAttribution.cs"] = "VmProbe.Config",
        ["Kvm/KvmStatsMode.cs"] = "VmProbe.Config",
        ["Perf/VmPerfEventInfo.cs"] = "VmProbe", // a pipeline object, in the root namespace as the others
        ["Kvm/Exits/VmKvmExitStat.cs"] = "VmProbe", // Measure-VmKvmExit's pipeline object
    };

    private static readonly Regex Comment = new(@"//.*$", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Namespace = new(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Using = new(@"^using\s+(VmProbe(?:\.\w+)*)\s*;", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex Qualified = new(@"(?<![\w.])(VmProbe(?:\.[A-Z]\w*)+)\.", RegexOptions.CultureInvariant);
    private static readonly Regex Declaration = new(
        @"\b(?:class|struct|interface|enum|record)\s+([A-Z]\w*)", RegexOptions.CultureInvariant);

    private sealed record SourceFile(string Relative, string Folder, string Namespace, string Code);

    private static readonly Lazy<IReadOnlyList<SourceFile>> Files = new(LoadFiles);

    private static IReadOnlyList<SourceFile> LoadFiles()
    {
        var core = Path.Combine(RepoPaths.Root, "src", "VmProbe.Core");
        var files = new List<SourceFile>();
        foreach (var path in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(core, path).Replace('\\', '/');
            var folder = relative.Split('/')[0];
            if (folder is "bin" or "obj" || !relative.Contains('/'))
            {
                continue;
            }

            var code = Comment.Replace(File.ReadAllText(path), string.Empty);
            var ns = Namespace.Match(code);
            files.Add(new SourceFile(relative, folder, ns.Success ? ns.Groups[1].Value : string.Empty, code));
        }

        return files;
    }

    private static string HomeNamespace(string folder) => folder == Model ? "VmProbe" : "VmProbe." + folder;

    private static string? HomeFolder(string ns) =>
        ns == "VmProbe" ? Model : ns.StartsWith("VmProbe.", StringComparison.Ordinal) ? ns["VmProbe.".Length..].Split('.')[0] : null;

    /// <summary>folder -> folders it imports, each with the files and names that make the edge.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> ImportGraph()
    {
        var files = Files.Value;
        var declared = new Dictionary<string, List<(string Type, string Folder)>>(StringComparer.Ordinal); // namespace -> types
        foreach (var file in files)
        {
            if (!declared.TryGetValue(file.Namespace, out var types))
            {
                declared[file.Namespace] = types = new List<(string, string)>();
            }

            foreach (Match m in Declaration.Matches(file.Code))
            {
                types.Add((m.Groups[1].Value, file.Folder));
            }
        }

        var graph = new Dictionary<string, Dictionary<string, List<string>>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!graph.TryGetValue(file.Folder, out var edges))
            {
                graph[file.Folder] = edges = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            }

            // The root namespace (the model, and pipeline objects declared by a source) is visible to every file.
            var namespaces = Using.Matches(file.Code).Select(m => m.Groups[1].Value)
                .Concat(Qualified.Matches(file.Code).Select(m => LongestNamespace(m.Groups[1].Value, declared)))
                .Append("VmProbe")
                .Append(file.Namespace)
                .Distinct(StringComparer.Ordinal);
            foreach (var ns in namespaces)
            {
                if (ns is null)
                {
                    continue;
                }

                var named = declared.GetValueOrDefault(ns) ?? new List<(string Type, string Folder)>();
                var used = named.Where(t => t.Folder != file.Folder && Regex.IsMatch(file.Code, $@"\b{t.Type}\b")).ToList();
                if (used.Count == 0 && ns != "VmProbe" && ns != file.Namespace && !named.Any(t => t.Folder == file.Folder)
                    && HomeFolder(ns) is { } home && home != file.Folder)
                {
                    used.Add(("(using " + ns + ")", home));
                }

                foreach (var (type, folder) in used)
                {
                    if (!edges.TryGetValue(folder, out var why))
                    {
                        edges[folder] = why = new List<string>();
                    }

                    why.Add($"{file.Relative}: {type}");
                }
            }
        }

        return graph;
    }

    // VmProbe.Perf.PerfFdBudget. -> VmProbe.Perf (the longest prefix that is a declared namespace).
    private static string? LongestNamespace(string qualified, Dictionary<string, List<(string Type, string Folder)>> declared)
    {
        var parts = qualified.Split('.');
        for (var n = parts.Length; n >= 1; n--)
        {
            var candidate = string.Join('.', parts.Take(n));
            if (declared.ContainsKey(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [Fact]
    public void EveryFolderIsInTheTableAndUsesItsNamespace()
    {
        var files = Files.Value;
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Assert.True(MayImport.ContainsKey(file.Folder), $"{file.Relative}: folder {file.Folder} is not in the layer table");
            // A subfolder is a namespace below its folder's (Kvm/Exits: VmProbe.Kvm.Exits), in the same layer.
            var subfolders = Path.GetDirectoryName(file.Relative)!.Replace('/', '.')[file.Folder.Length..];
            var expected = NamespaceExceptions.GetValueOrDefault(file.Relative) ?? HomeNamespace(file.Folder) + subfolders;
            Assert.True(file.Namespace == expected, $"{file.Relative}: namespace {file.Namespace}, expected {expected}");
        }
    }

    [Fact]
    public void FoldersImportOnlyTheLayersBelowThem()
    {
        var problems = new List<string>();
        foreach (var (folder, edges) in ImportGraph())
        {
            foreach (var (target, why) in edges)
            {
                if (!MayImport[folder].Contains(target))
                {
                    problems.Add($"{folder} -> {target}: {string.Join("; ", why.Distinct().Take(5))}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheTableAndTheImportGraphHaveNoCycle()
    {
        var table = MayImport.ToDictionary(kv => kv.Key, kv => (IEnumerable<string>)kv.Value, StringComparer.Ordinal);
        Assert.Null(FindCycle(table));
        var graph = ImportGraph().ToDictionary(kv => kv.Key, kv => (IEnumerable<string>)kv.Value.Keys, StringComparer.Ordinal);
        var cycle = FindCycle(graph);
        Assert.True(cycle is null, "import cycle: " + cycle);
    }

    [Fact]
    public void TheCheckSeesImports()
    {
        // The graph the other facts judge is not empty: Composition builds everything, Perf reads process facts.
        var graph = ImportGraph();
        Assert.Contains("Config", graph["Composition"].Keys);
        Assert.Contains(Procfs, graph["Perf"].Keys);
        Assert.Contains(Native, graph[Procfs].Keys);
    }

    [Fact]
    public void NoNativeDeclarationOutsideNative()
    {
        foreach (var file in Files.Value.Where(f => f.Folder != Native))
        {
            Assert.False(Regex.IsMatch(file.Code, @"\[(DllImport|LibraryImport)\b"), $"{file.Relative} declares a native function outside Native/");
        }
    }

    private static string? FindCycle(IReadOnlyDictionary<string, IEnumerable<string>> graph)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the stack, 2 done
        var stack = new List<string>();
        string? Visit(string node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? Enumerable.Empty<string>())
            {
                if (next == node)
                {
                    continue;
                }

                if (state.GetValueOrDefault(next) == 1)
                {
                    return string.Join(" -> ", stack.SkipWhile(s => s != next).Append(next));
                }

                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                {
                    return found;
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (var node in graph.Keys)
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }
}
