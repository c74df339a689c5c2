using System.Reflection;
using System.Runtime.InteropServices;
using VmProbe.Libvirt;

namespace VmProbe.Native;

/// <summary>
/// Finds and loads libvirt.so.0 once. The DllImport resolver lets <c>VMPROBE_LIBVIRT_PATH</c> point at another build,
/// and loading up front turns a missing library into a <see cref="LibvirtUnavailableException"/> at first use instead
/// of a DllNotFoundException from deep inside a call.
/// </summary>
internal static class LibvirtLibrary
{
    /// <summary>The exact soname: the unversioned libvirt.so only exists where libvirt-dev is installed.</summary>
    public const string Name = "libvirt.so.0";

    public const string PathVariable = "VMPROBE_LIBVIRT_PATH";

    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static LibvirtUnavailableException? _loadFailure;
    private static bool _resolverInstalled;

    /// <summary>Loads the library (once) and silences libvirt's default stderr error printer; throws when it cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (_handle != IntPtr.Zero)
        {
            return;
        }

        lock (Gate)
        {
            if (_handle != IntPtr.Zero)
            {
                return;
            }

            if (_loadFailure is not null)
            {
                throw _loadFailure;
            }

            InstallResolver();
            var overridePath = Environment.GetEnvironmentVariable(PathVariable);
            var candidate = string.IsNullOrWhiteSpace(overridePath) ? Name : overridePath;
            if (!NativeLibrary.TryLoad(candidate, typeof(LibvirtLibrary).Assembly, null, out var handle))
            {
                _loadFailure = string.IsNullOrWhiteSpace(overridePath)
                    ? new LibvirtUnavailableException(
                        $"{Name} not found: install libvirt0 (Debian/Ubuntu) or libvirt-libs (RHEL/Fedora), or set {PathVariable} to the library's path.")
                    : new LibvirtUnavailableException(
                        $"{PathVariable}={overridePath} could not be loaded as libvirt: check that the file exists and is a libvirt.so.0 for this architecture.");
                throw _loadFailure;
            }

            _handle = handle;
            LibvirtErrors.InstallSilentHandler();
        }
    }

    private static void InstallResolver()
    {
        if (_resolverInstalled)
        {
            return;
        }

        // One resolver per assembly is allowed; it answers only for libvirt and lets every other import load normally.
        NativeLibrary.SetDllImportResolver(typeof(LibvirtLibrary).Assembly, Resolve);
        _resolverInstalled = true;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != Name)
        {
            return IntPtr.Zero;
        }

        if (_handle == IntPtr.Zero)
        {
            // A P/Invoke reached before EnsureLoaded: load now so the failure is the same clear exception.
            EnsureLoaded();
        }

        return _handle;
    }
}
