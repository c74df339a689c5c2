using Xunit;
using System.Management.Automation;

namespace VmProbe.Tests.Module;

public class CmdletConventionTests
{
    // Get-Verb | Sort-Object Verb, from pwsh 7.4 (100 approved verbs).
    private static readonly HashSet<string> ApprovedVerbs = new(StringComparer.Ordinal)
    {
        "Add", "Approve", "Assert", "Backup", "Block", "Build", "Checkpoint", "Clear", "Close", "Compare", "Complete", "Compress",
        "Confirm", "Connect", "Convert", "ConvertFrom", "ConvertTo", "Copy", "Debug", "Deny", "Deploy", "Disable", "Disconnect",
        "Dismount", "Edit", "Enable", "Enter", "Exit", "Expand", "Export", "Find", "Format", "Get", "Grant", "Group", "Hide",
        "Import", "Initialize", "Install", "Invoke", "Join", "Limit", "Lock", "Measure", "Merge", "Mount", "Move", "New", "Open",
        "Optimize", "Out", "Ping", "Pop", "Protect", "Publish", "Push", "Read", "Receive", "Redo", "Register", "Remove", "Rename",
        "Repair", "Request", "Reset", "Resize", "Resolve", "Restart", "Restore", "Resume", "Revoke", "Save", "Search", "Select",
        "Send", "Set", "Show", "Skip", "Split", "Start", "Step", "Stop", "Submit", "Suspend", "Switch", "Sync", "Test", "Trace",
        "Unblock", "Undo", "Uninstall", "Unlock", "Unprotect", "Unpublish", "Unregister", "Update", "Use", "Wait", "Watch", "Write",
    };

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var cmdlet in ModuleMetadata.Cmdlets)
        {
            data.Add(cmdlet.Name);
        }

        return data;
    }

    [Fact]
    public void ApprovedVerbListIsComplete() => Assert.Equal(100, ApprovedVerbs.Count);

    [Fact]
    public void AssemblyDefinesTheCommandsOfTheBrief()
    {
        var expected = new[]
        {
            "Close-VmProbe", "ConvertTo-PromText", "Export-PromTextFile", "Get-VmDomain", "Get-VmPerfEvent", "Get-VmProbeConfig",
            "Invoke-VmProbeCycle", "Measure-VmKvmExit", "Open-VmProbe", "Read-VmDomainStat", "Read-VmHostStat", "Read-VmKvmStat", "Read-VmPerfCounter", "Read-VmPower", "Read-VmSchedStat",
            "Start-VmPerfSession", "Stop-VmPerfSession", "Watch-VmDomain",
        };
        Assert.Equal(expected, ModuleMetadata.Cmdlets.Select(c => c.Name).ToArray());
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void CmdletFollowsConventions(string name)
    {
        var cmdlet = ModuleMetadata.Cmdlet(name);
        Assert.Contains(cmdlet.Verb, ApprovedVerbs);
        Assert.True(cmdlet.Noun.StartsWith("Vm", StringComparison.Ordinal) || cmdlet.Noun.StartsWith("Prom", StringComparison.Ordinal), $"noun {cmdlet.Noun}");
        Assert.True(cmdlet.Type.IsSealed, $"{cmdlet.Type} is not sealed");
        Assert.True(cmdlet.Type.IsPublic, $"{cmdlet.Type} is not public");
        Assert.Equal($"{cmdlet.Verb}{cmdlet.Noun}Command", cmdlet.Type.Name);
        Assert.True(typeof(PSCmdlet).IsAssignableFrom(cmdlet.Type), $"{cmdlet.Type} does not derive from PSCmdlet");
        Assert.NotEmpty(cmdlet.OutputTypes);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void ParameterSetsAreConsistent(string name)
    {
        var cmdlet = ModuleMetadata.Cmdlet(name);
        if (cmdlet.SetNames.Count > 1)
        {
            Assert.Contains(cmdlet.DefaultParameterSetName, cmdlet.SetNames);
        }

        // Per set: positions unique, at most one ValueFromPipeline parameter of each element type.
        var sets = cmdlet.SetNames.Count == 0 ? new[] { ModuleMetadata.AllSets } : cmdlet.SetNames;
        foreach (var set in sets)
        {
            var inSet = cmdlet.Parameters
                .SelectMany(p => p.Sets.Where(s => s.Name == set || s.Name == ModuleMetadata.AllSets).Select(s => (Parameter: p, Set: s)))
                .ToArray();
            var positions = inSet.Where(x => x.Set.Position is not null).Select(x => x.Set.Position!.Value).ToArray();
            Assert.Equal(positions.Length, positions.Distinct().Count());
            var byValue = inSet.Where(x => x.Set.ValueFromPipeline).Select(x => x.Parameter.ElementType).ToArray();
            Assert.Equal(byValue.Length, byValue.Distinct().Count());
        }
    }

    [Fact]
    public void ReadVmPerfCounterHasItsPluralAlias() =>
        Assert.Equal(new[] { "Read-VmPerfCounters" }, ModuleMetadata.Cmdlet("Read-VmPerfCounter").Aliases);

    [Fact]
    public void NameParametersSupportWildcards()
    {
        Assert.True(ModuleMetadata.Cmdlet("Get-VmDomain").Parameter("Name").Has<SupportsWildcardsAttribute>());
        Assert.True(ModuleMetadata.Cmdlet("Get-VmPerfEvent").Parameter("Name").Has<SupportsWildcardsAttribute>());
    }

    [Fact]
    public void EventParametersCompleteFromTheCatalog()
    {
        foreach (var name in new[] { "Start-VmPerfSession", "Read-VmPerfCounter" })
        {
            var property = ModuleMetadata.Cmdlet(name).Type.GetProperty("Event")!;
            var completer = property.GetCustomAttributesData().Single(a => a.AttributeType == typeof(ArgumentCompleterAttribute));
            Assert.Equal(typeof(VmProbe.Commands.PerfEventNameCompleter), completer.ConstructorArguments[0].Value);
            Assert.True(typeof(IArgumentCompleter).IsAssignableFrom(typeof(VmProbe.Commands.PerfEventNameCompleter)));
        }
    }

    [Fact]
    public void StateChangingFileWriterSupportsShouldProcess()
    {
        Assert.True(ModuleMetadata.Cmdlet("Export-PromTextFile").SupportsShouldProcess);
        Assert.True(ModuleMetadata.Cmdlet("Stop-VmPerfSession").SupportsShouldProcess);
    }

    [Fact]
    public void ModuleReleasesItsStateWhenRemoved() => // complements the Pester test that removes the module for real
        Assert.Contains(ModuleMetadata.CmdletAssembly.GetTypes(), t => typeof(IModuleAssemblyCleanup).IsAssignableFrom(t) && !t.IsAbstract);
}
