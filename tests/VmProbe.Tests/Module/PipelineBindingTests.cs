using Xunit;
using System.Collections;
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
}
