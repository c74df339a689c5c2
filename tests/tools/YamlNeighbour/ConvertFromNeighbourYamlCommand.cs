using System.Collections;
using System.Management.Automation;
using YamlDotNet.Serialization;

namespace YamlNeighbour;

/// <summary>Parses a YAML mapping with the module's own YamlDotNet and says which YamlDotNet did it.</summary>
[Cmdlet(VerbsData.ConvertFrom, "NeighbourYaml")]
[OutputType(typeof(PSObject))]
public sealed class ConvertFromNeighbourYamlCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public string Yaml { get; set; } = "";

    protected override void ProcessRecord()
    {
        var values = new DeserializerBuilder().Build().Deserialize<Dictionary<string, string>>(Yaml);
        var result = new PSObject();
        result.Properties.Add(new PSNoteProperty("YamlDotNetVersion", typeof(IDeserializer).Assembly.GetName().Version));
        result.Properties.Add(new PSNoteProperty("YamlDotNetPath", typeof(IDeserializer).Assembly.Location));
        result.Properties.Add(new PSNoteProperty("Values", new Hashtable(values)));
        WriteObject(result);
    }
}
