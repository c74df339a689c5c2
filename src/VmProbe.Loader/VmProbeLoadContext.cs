using System.Reflection;
using System.Runtime.Loader;

namespace VmProbe.Loading;

/// <summary>
/// The module's own AssemblyLoadContext: VmProbe.Core and its dependencies (YamlDotNet) load here from
/// <c>bin/lib/</c>, so that another module of the same session with another YamlDotNet, imported before or after
/// VmProbe, never shares one with it. An assembly that is not in <c>bin/lib/</c> (the framework, PowerShell) comes
/// from the default context, as for any assembly. One instance per process, never unloaded: pwsh cannot unload the
/// cmdlet assembly that uses it either.
/// </summary>
internal sealed class VmProbeLoadContext : AssemblyLoadContext
{
    /// <summary>The folder of the isolated assemblies, relative to the folder of VmProbe.dll.</summary>
    public const string LibraryFolder = "lib";

    private readonly string _directory;

    public VmProbeLoadContext(string directory)
        : base(name: "VmProbe", isCollectible: false)
    {
        _directory = directory;
    }

    public string Directory => _directory;

    /// <summary>Only what <c>bin/lib/</c> holds; null hands every other name to the default context.</summary>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.IsNullOrEmpty(assemblyName.Name) || assemblyName.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            return null;
        }

        var path = Path.Join(_directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
