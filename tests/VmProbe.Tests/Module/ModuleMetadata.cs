using VmProbe.Tests.Infrastructure;
using Xunit;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;

namespace VmProbe.Tests.Module;

/// <summary>
/// The cmdlet surface read from attribute DATA (GetCustomAttributesData): PowerShellStandard.Library's attribute
/// constructors do nothing at run time, so instantiated attributes would all look empty.
/// </summary>
internal static class ModuleMetadata
{
    public const string AllSets = "__AllParameterSets";

    private static readonly string[] CommonParameterNames =
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    };

    public static Assembly CmdletAssembly => typeof(VmProbe.Commands.GetVmDomainCommand).Assembly;

    public static string RepoRoot => RepoPaths.Root;

    public static IReadOnlyList<CmdletInfo> Cmdlets { get; } = LoadCmdlets();

    public static CmdletInfo Cmdlet(string name) => Cmdlets.Single(c => c.Name == name);

    public static string ReadRepoFile(string relative) => File.ReadAllText(Path.Combine(RepoRoot, relative));

    /// <summary>Items of a psd1 array key: <c>Key = @('a', 'b')</c> on one or several lines.</summary>
    public static IReadOnlyList<string> ManifestList(string key)
    {
        var text = ReadRepoFile("VmProbe.psd1");
        var match = Regex.Match(text, @"^\s*" + key + @"\s*=\s*@\((?<items>[^)]*)\)", RegexOptions.Multiline);
        Assert.True(match.Success, $"VmProbe.psd1 has no '{key} = @(...)'");
        return Regex.Matches(match.Groups["items"].Value, @"'([^']*)'").Select(m => m.Groups[1].Value).ToArray();
    }

    public static string? ManifestValue(string key)
    {
        var match = Regex.Match(ReadRepoFile("VmProbe.psd1"), @"^\s*" + key + @"\s*=\s*'([^']*)'", RegexOptions.Multiline);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>Names of the functions the psm1 defines at top level.</summary>
    public static IReadOnlyList<string> ScriptFunctions() =>
        Regex.Matches(ReadRepoFile("VmProbe.psm1"), @"^function\s+([\w-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>Parameter names of a psm1 function's param() block.</summary>
    public static IReadOnlyList<string> ScriptFunctionParameters(string function)
    {
        var text = ReadRepoFile("VmProbe.psm1");
        var start = text.IndexOf("function " + function, StringComparison.Ordinal);
        Assert.True(start >= 0, $"VmProbe.psm1 does not define {function}");
        var open = text.IndexOf("param(", start, StringComparison.Ordinal) + "param".Length;
        var depth = 0;
        var end = open;
        for (; end < text.Length; end++)
        {
            depth += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
            if (depth == 0)
            {
                break;
            }
        }

        var block = text[(open + 1)..end];
        // A parameter is a variable that follows a type literal or starts a line, not one used inside an attribute.
        return Regex.Matches(block, @"(?:\]\s*|^\s*)\$(\w+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
    }

    /// <summary>Aliases New-Alias/Set-Alias defines in the psm1.</summary>
    public static IReadOnlyList<string> ScriptAliases() =>
        Regex.Matches(ReadRepoFile("VmProbe.psm1"), @"^(?:New|Set)-Alias\s+-Name\s+([\w-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();

    public static bool IsCommonParameter(string name) => CommonParameterNames.Contains(name);

    private static IReadOnlyList<CmdletInfo> LoadCmdlets()
    {
        var list = new List<CmdletInfo>();
        foreach (var type in CmdletAssembly.GetTypes())
        {
            var cmdlet = Attribute<CmdletAttribute>(type.GetCustomAttributesData());
            if (cmdlet is null)
            {
                continue;
            }

            var verb = (string)cmdlet.ConstructorArguments[0].Value!;
            var noun = (string)cmdlet.ConstructorArguments[1].Value!;
            var outputTypes = type.GetCustomAttributesData().Where(a => a.AttributeType == typeof(OutputTypeAttribute))
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : new[] { arg.Value })
                .OfType<Type>()
                .ToArray();
            var aliases = type.GetCustomAttributesData().Where(a => a.AttributeType == typeof(AliasAttribute))
                .SelectMany(a => ((IReadOnlyCollection<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (string)v.Value!))
                .ToArray();
            var parameters = new List<ParameterInfo>();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var data = property.GetCustomAttributesData();
                var sets = data.Where(a => a.AttributeType == typeof(ParameterAttribute)).Select(ToParameterSet).ToArray();
                if (sets.Length == 0)
                {
                    continue;
                }

                parameters.Add(new ParameterInfo(
                    property.Name,
                    property.PropertyType,
                    sets,
                    data.Select(a => a.AttributeType).ToArray()));
            }

            list.Add(new CmdletInfo(
                type,
                verb,
                noun,
                Named<bool>(cmdlet, nameof(CmdletAttribute.SupportsShouldProcess)),
                Named<string>(cmdlet, nameof(CmdletAttribute.DefaultParameterSetName)),
                outputTypes,
                aliases,
                parameters));
        }

        return list.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
    }

    private static ParameterSetInfo ToParameterSet(CustomAttributeData parameter) => new(
        Named<string>(parameter, nameof(ParameterAttribute.ParameterSetName)) ?? AllSets,
        Named<bool>(parameter, nameof(ParameterAttribute.Mandatory)),
        parameter.NamedArguments.Any(a => a.MemberName == nameof(ParameterAttribute.Position)) ? Named<int>(parameter, nameof(ParameterAttribute.Position)) : null,
        Named<bool>(parameter, nameof(ParameterAttribute.ValueFromPipeline)),
        Named<bool>(parameter, nameof(ParameterAttribute.ValueFromPipelineByPropertyName)));

    private static CustomAttributeData? Attribute<T>(IEnumerable<CustomAttributeData> data) => data.FirstOrDefault(a => a.AttributeType == typeof(T));

    private static T? Named<T>(CustomAttributeData data, string name)
    {
        foreach (var argument in data.NamedArguments)
        {
            if (argument.MemberName == name)
            {
                return (T?)argument.TypedValue.Value;
            }
        }

        return default;
    }
}

internal sealed record ParameterSetInfo(string Name, bool Mandatory, int? Position, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);

internal sealed record ParameterInfo(string Name, Type Type, IReadOnlyList<ParameterSetInfo> Sets, IReadOnlyList<Type> AttributeTypes)
{
    public Type ElementType => Type.IsArray ? Type.GetElementType()! : Type;

    public bool Has<T>() => AttributeTypes.Contains(typeof(T));
}

internal sealed record CmdletInfo(
    Type Type,
    string Verb,
    string Noun,
    bool SupportsShouldProcess,
    string? DefaultParameterSetName,
    IReadOnlyList<Type> OutputTypes,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<ParameterInfo> Parameters)
{
    public string Name => $"{Verb}-{Noun}";

    public ParameterInfo Parameter(string name) => Parameters.Single(p => p.Name == name);

    /// <summary>The names of the parameter sets a user sees (AllParameterSets alone when none is named).</summary>
    public IReadOnlyList<string> SetNames =>
        Parameters.SelectMany(p => p.Sets).Select(s => s.Name).Where(n => n != ModuleMetadata.AllSets).Distinct().ToArray();

    public override string ToString() => Name;
}
