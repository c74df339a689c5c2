using Xunit;
using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using VmProbe.Commands;

namespace VmProbe.Tests.Module;

/// <summary>The pipelines of the brief bind: the producer's output type meets a consumer parameter by value or by property name.</summary>
public class PipelineBindingTests
{
    public static TheoryData<string, string, string, string> Pipelines() => new()
    {
        // producer, consumer, parameter, parameter set (or AllSets)
        { "Get-VmDomain", "Start-VmPerfSession", "Domain", ModuleMetadata.AllSets },
        { "Get-VmDomain", "Read-VmPerfCounter", "Domain", "Domain" },
        { "Get-VmDomain", "Read-VmSchedStat", "Domain", ModuleMetadata.AllSets },
        { "Get-VmDomain", "Read-VmDomainStat", "Domain", ModuleMetadata.AllSets },
        { "Start-VmPerfSession", "Read-VmPerfCounter", "Session", "Session" },
        { "Start-VmPerfSession", "Stop-VmPerfSession", "Session", ModuleMetadata.AllSets },
        { "Read-VmPerfCounter", "Export-PromTextFile", "InputObject", ModuleMetadata.AllSets },
        { "Read-VmSchedStat", "Export-PromTextFile", "InputObject", ModuleMetadata.AllSets },
        { "Read-VmDomainStat", "Export-PromTextFile", "InputObject", ModuleMetadata.AllSets },
        { "Read-VmHostStat", "Export-PromTextFile", "InputObject", ModuleMetadata.AllSets },
        { "Read-VmPerfCounter", "ConvertTo-PromText", "InputObject", ModuleMetadata.AllSets },
        { "Read-VmSchedStat", "ConvertTo-PromText", "InputObject", ModuleMetadata.AllSets },
    };

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void ProducerOutputBindsToConsumer(string producer, string consumer, string parameterName, string set)
    {
        var output = Assert.Single(ModuleMetadata.Cmdlet(producer).OutputTypes);
        var parameter = ModuleMetadata.Cmdlet(consumer).Parameter(parameterName);
        var binding = Assert.Single(parameter.Sets, s => s.Name == set);
        var byValue = binding.ValueFromPipeline && (parameter.ElementType.IsAssignableFrom(output) || parameter.ElementType == typeof(System.Management.Automation.PSObject));
        var byPropertyName = binding.ValueFromPipelineByPropertyName && output.GetProperty(parameterName) is not null;
        Assert.True(byValue || byPropertyName, $"{producer} ({output}) does not bind to {consumer} -{parameterName} in set {set}");
    }

    [Theory]
    [InlineData("Start-VmPerfSession")]
    [InlineData("Read-VmPerfCounter")]
    [InlineData("Read-VmSchedStat")]
    [InlineData("Read-VmDomainStat")]
    public void DomainParameterAcceptsNamesUuidsAndObjectsWithThoseProperties(string consumer)
    {
        var parameter = ModuleMetadata.Cmdlet(consumer).Parameter("Domain");
        Assert.Equal(typeof(VmDomain[]), parameter.Type);
        Assert.True(parameter.Has<VmDomainTransformationAttribute>(), $"{consumer} -Domain has no VmDomainTransformation");
    }

    [Fact]
    public void GetVmDomainBindsNamesAndUuidsByPropertyName()
    {
        var cmdlet = ModuleMetadata.Cmdlet("Get-VmDomain");
        Assert.True(cmdlet.Parameter("Name").Sets.Single().ValueFromPipelineByPropertyName);
        Assert.True(cmdlet.Parameter("Uuid").Sets.Single().ValueFromPipelineByPropertyName);
        Assert.NotNull(typeof(VmDomain).GetProperty("Name"));
        Assert.NotNull(typeof(VmDomain).GetProperty("Uuid"));
    }

    [Fact]
    public void TransformationKeepsDomains()
    {
        var domain = new VmDomain { Name = "web1", Uuid = Guid.NewGuid(), Uri = "test:///default", Pid = 42 };
        var result = (VmDomain[])new VmDomainTransformationAttribute().Transform(null!, domain);
        Assert.Same(domain, Assert.Single(result));
    }

    [Fact]
    public void TransformationTurnsNamesAndUuidsIntoReferences()
    {
        var uuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");
        var result = (VmDomain[])new VmDomainTransformationAttribute().Transform(null!, new object[] { "web1", uuid.ToString() });
        Assert.Equal(2, result.Length);
        Assert.Equal("web1", result[0].Name);
        Assert.Equal(Guid.Empty, result[0].Uuid);
        Assert.Equal(uuid, result[1].Uuid);
        Assert.All(result, d => Assert.True(DomainResolver.IsReference(d)));
    }

    [Fact]
    public void TransformationReadsNameAndUuidProperties()
    {
        var uuid = Guid.NewGuid();
        var fromDictionary = (VmDomain[])new VmDomainTransformationAttribute().Transform(null!, new Hashtable { ["Name"] = "db01", ["Uuid"] = uuid.ToString() });
        Assert.Equal(("db01", uuid), (fromDictionary[0].Name, fromDictionary[0].Uuid));

        var fromObject = (VmDomain[])new VmDomainTransformationAttribute().Transform(null!, new { Name = "db02", Other = 1 });
        Assert.Equal("db02", fromObject[0].Name);
    }

    [Fact]
    public void PropertyLookupTurnsNotePropertiesIntoReferences()
    {
        // A [pscustomobject] or Import-Csv row: a PSObject over an empty PSCustomObject, its data in note properties.
        var row = RuntimeHelpers.GetUninitializedObject(typeof(PSCustomObject));
        var uuid = Guid.Parse("6695eb01-f6a4-8304-79aa-97f2502e193f");

        var byName = VmDomainTransformationAttribute.FromPropertyLookup(row, Notes(("Name", "test")), "row");
        Assert.Equal(("test", Guid.Empty), (byName?.Name, byName?.Uuid));
        Assert.True(DomainResolver.IsReference(byName!));

        // Import-Csv gives strings; an empty Name column beside a UUID is a UUID reference.
        var byUuid = VmDomainTransformationAttribute.FromPropertyLookup(row, Notes(("Name", ""), ("Uuid", uuid.ToString())), "row");
        Assert.Equal((string.Empty, uuid), (byUuid?.Name, byUuid?.Uuid));

        var both = VmDomainTransformationAttribute.FromPropertyLookup(row, Notes(("Name", "test"), ("Uuid", uuid)), "row");
        Assert.Equal(("test", uuid), (both?.Name, both?.Uuid));
    }

    [Fact]
    public void PropertyLookupRejectsEmptyNameAndUuid()
    {
        // The stub's exception drops its message, so only the type is checked here.
        var row = RuntimeHelpers.GetUninitializedObject(typeof(PSCustomObject));
        Assert.Throws<ArgumentTransformationMetadataException>(() =>
            VmDomainTransformationAttribute.FromPropertyLookup(row, Notes(("Name", ""), ("Uuid", null)), "@{Name=; Uuid=}"));
    }

    [Fact]
    public void PropertyLookupLeavesOtherObjectsToTheUsualConversion()
    {
        var lookup = Notes(("Name", "other"), ("Uuid", Guid.NewGuid()));
        var row = RuntimeHelpers.GetUninitializedObject(typeof(PSCustomObject));

        // No Name/Uuid note: the usual conversion reports the object.
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup(row, Notes(("Host", "x")), "row"));

        // A live VmDomain keeps its Uri and Pid rather than becoming a name reference; strings, collections and
        // hashtables have their own conversion (their adapted properties are no Name/Uuid of a domain).
        var live = new VmDomain { Name = "web1", Uuid = Guid.NewGuid(), Uri = "test:///default", Pid = 42 };
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup(live, lookup, live));
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup("web1", lookup, "web1"));
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup(new object[] { "a", "b" }, lookup, null));
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup(new Hashtable { ["Name"] = "db01" }, lookup, null));
        Assert.Null(VmDomainTransformationAttribute.FromPropertyLookup(Guid.NewGuid(), lookup, null));
    }

    [Fact]
    public void ReadVmPerfCounterCountsTheHostWithoutDomains()
    {
        // Read-VmPerfCounter -Event X -IncludeHost: nothing may make -Domain mandatory (pwsh would prompt or fail),
        // and -Event, mandatory and only in the Domain set, is what selects that set.
        var cmdlet = ModuleMetadata.Cmdlet("Read-VmPerfCounter");
        var domain = cmdlet.Parameter("Domain");
        Assert.All(domain.Sets, s => Assert.False(s.Mandatory, $"-Domain is mandatory in set {s.Name}"));
        Assert.Equal(new[] { "Domain" }, domain.Sets.Select(s => s.Name));
        var eventSet = Assert.Single(cmdlet.Parameter("Event").Sets);
        Assert.Equal(("Domain", true), (eventSet.Name, eventSet.Mandatory));
        Assert.Equal(new[] { "Domain" }, cmdlet.Parameter("IncludeHost").Sets.Select(s => s.Name));
    }

    [Theory]
    [InlineData("Start-VmPerfSession")]
    [InlineData("Read-VmPerfCounter")]
    [InlineData("Read-VmSchedStat")]
    [InlineData("Read-VmDomainStat")]
    public void DomainNamesAreLookedUpAtUri(string consumer)
    {
        // Names and UUIDs given to -Domain resolve at -Uri: every cmdlet taking them has it, wherever -Domain is.
        var cmdlet = ModuleMetadata.Cmdlet(consumer);
        var uri = cmdlet.Parameter("Uri");
        Assert.Equal(typeof(string), uri.Type);
        Assert.True(uri.Has<ValidateNotNullOrEmptyAttribute>(), $"{consumer} -Uri is not ValidateNotNullOrEmpty");
        Assert.All(uri.Sets, s => Assert.False(s.Mandatory));
        Assert.Equal(
            cmdlet.Parameter("Domain").Sets.Select(s => s.Name).Order(StringComparer.Ordinal),
            uri.Sets.Select(s => s.Name).Order(StringComparer.Ordinal));
        var instance = Activator.CreateInstance(cmdlet.Type)!;
        Assert.Equal(VmProbeCmdlet.DefaultUri, cmdlet.Type.GetProperty("Uri")!.GetValue(instance));
        (instance as IDisposable)?.Dispose();
    }

    /// <summary>A PSObject's property lookup over the given note properties (case-insensitive, as pwsh's).</summary>
    private static Func<string, (bool Found, object? Value)> Notes(params (string Name, object? Value)[] notes) =>
        name => notes.Where(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)).Select(n => (true, n.Value)).FirstOrDefault();
}
