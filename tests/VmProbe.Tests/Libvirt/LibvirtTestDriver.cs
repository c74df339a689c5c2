using VmProbe.Libvirt;
using VmProbe.Native;

namespace VmProbe.Tests.Libvirt;

/// <summary>What the test:/// driver tests need: a loadable libvirt.so.0 and the fixture node file.</summary>
internal static class LibvirtTestDriver
{
    public const string DefaultUri = "test:///default";

    private static readonly Lazy<string?> LoadError = new(() =>
    {
        try
        {
            LibvirtErrors.EnsureLoaded();
            return null;
        }
        catch (LibvirtUnavailableException ex)
        {
            return ex.Message;
        }
    });

    public static bool Available => LoadError.Value is null;

    public static string WhyUnavailable => LoadError.Value ?? string.Empty;

    /// <summary>test:///ABSOLUTE/PATH/node.xml for Fixtures/Libvirt/node.xml.</summary>
    public static string NodeUri => "test://" + Path.Combine(AppContext.BaseDirectory, "Fixtures", "Libvirt", "node.xml");
}
