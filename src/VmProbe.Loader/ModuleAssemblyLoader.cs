using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace VmProbe.Loading;

/// <summary>
/// The module initializer of bin/VmProbe.Loader.dll, the module's first nested module. Import-Module runs it before it
/// loads bin/VmProbe.dll (the cmdlets, in the default load context), whose types PowerShell reflects over at once and
/// which reference VmProbe.Core: it installs a handler on the default context's Resolving event that answers for
/// VmProbe.Core alone, with the copy in <c>bin/lib/</c> loaded into <see cref="VmProbeLoadContext"/>. VmProbe.Core's own
/// references (YamlDotNet) then resolve in that context, from <c>bin/lib/</c>, and never reach the default context. No
/// other name is answered: a YamlDotNet another module asks the default context for is that module's own business.
/// Remove-Module removes the handler; the binding of VmProbe.dll to VmProbe.Core, made at its import, stays.
/// <para>
/// PowerShell resolves a type literal (<c>[VmProbe.VmDomain]</c>, <c>-is [VmProbe.Config.ProbeConfig]</c>) in the default
/// context only, by design: so the public types of VmProbe.Core are also registered as type accelerators under their
/// full names. They stay after Remove-Module, as the types do (no assembly of a pwsh session is ever unloaded).
/// </para>
/// </summary>
public sealed class ModuleAssemblyLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    /// <summary>The one assembly the default context is answered for: the engine the cmdlets are built on.</summary>
    public const string CoreAssemblyName = "VmProbe.Core";

    private static readonly object Gate = new();
    private static VmProbeLoadContext? _context;
    private static bool _installed;

    /// <summary>The module's load context once the module was imported; null in xunit and the runner, which load Core normally.</summary>
    public static AssemblyLoadContext? Context => _context;

    /// <summary>PowerShell may call it more than once per import: the handler is installed once.</summary>
    public void OnImport()
    {
        if (Install(Path.GetDirectoryName(typeof(ModuleAssemblyLoader).Assembly.Location)) && _context is { } context)
        {
            RegisterTypeNames(context.LoadFromAssemblyName(new AssemblyName(CoreAssemblyName)));
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo) => Uninstall();

    /// <summary>
    /// Installs the handler for the module whose bin folder is <paramref name="binDirectory"/>; false when its
    /// <c>lib/</c> holds no VmProbe.Core (a build output folder, where VmProbe.Core sits beside VmProbe.dll).
    /// </summary>
    internal static bool Install(string? binDirectory)
    {
        lock (Gate)
        {
            if (_installed)
            {
                return true;
            }

            if (_context is null)
            {
                if (string.IsNullOrEmpty(binDirectory))
                {
                    return false;
                }

                var libDirectory = Path.Join(binDirectory, VmProbeLoadContext.LibraryFolder);
                if (!File.Exists(Path.Join(libDirectory, CoreAssemblyName + ".dll")))
                {
                    return false;
                }

                _context = new VmProbeLoadContext(libDirectory);
            }

            AssemblyLoadContext.Default.Resolving += ResolveInDefault;
            _installed = true;
            return true;
        }
    }

    internal static void Uninstall()
    {
        lock (Gate)
        {
            if (_installed)
            {
                AssemblyLoadContext.Default.Resolving -= ResolveInDefault;
                _installed = false;
            }
        }
    }

    /// <summary>
    /// Makes <c>[Full.Name]</c> of every public type of <paramref name="core"/> resolve in PowerShell, through its
    /// TypeAccelerators table (not public API, stable since PowerShell 3 and what modules use to publish their types):
    /// without it, only the pipeline's objects and the cmdlets would know these types. Returns how many were registered;
    /// 0 when the table is not there, which costs the type literals and nothing else.
    /// </summary>
    internal static int RegisterTypeNames(Assembly core)
    {
        var add = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators")
            ?.GetMethod("Add", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string), typeof(Type) });
        if (add is null)
        {
            return 0;
        }

        var count = 0;
        foreach (var type in core.GetExportedTypes())
        {
            if (type.IsGenericTypeDefinition || type.FullName is not { } fullName)
            {
                continue;
            }

            add.Invoke(null, new object[] { fullName, type });
            count++;
        }

        return count;
    }

    /// <summary>VmProbe.Core from the module's context; null (not ours) for every other name.</summary>
    private static Assembly? ResolveInDefault(AssemblyLoadContext defaultContext, AssemblyName name)
    {
        var context = _context;
        if (context is null || !string.Equals(name.Name, CoreAssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return context.LoadFromAssemblyName(name);
    }
}
