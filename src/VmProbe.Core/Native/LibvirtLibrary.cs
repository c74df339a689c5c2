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
            var loaded = string.IsNullOrWhiteSpace(overridePath)
                ? NativeLibrary.TryLoad(Name, typeof(LibvirtLibrary).Assembly, null, out var handle)
                : NativeLibrary.TryLoad(overridePath, out handle); // the exact file: no name variations, no search path
            if (!loaded)
            {
                _loadFailure = new LibvirtUnavailableException(DescribeLoadFailure(overridePath));
                throw _loadFailure;
            }

            _handle = handle;
            LibvirtErrors.InstallSilentHandler();
        }
    }

    /// <summary>
    /// Routes libvirt P/Invokes through <see cref="EnsureLoaded"/> without loading anything now (the module's import
    /// calls it: import must succeed on a host without libvirt). Idempotent.
    /// </summary>
    public static void InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled)
            {
                return;
            }

            // One resolver per assembly is allowed; it answers only for libvirt and lets every other import load normally.
            NativeLibrary.SetDllImportResolver(typeof(LibvirtLibrary).Assembly, Resolve);
            _resolverInstalled = true;
        }
    }

    /// <summary>One line naming the library, the variable and what to do.</summary>
    internal static string DescribeLoadFailure(string? overridePath)
    {
        if (string.IsNullOrWhiteSpace(overridePath))
        {
            return $"{Name} not found: install libvirt0 (Debian/Ubuntu) or libvirt-libs (RHEL/Fedora), or set {PathVariable} to the library's path.";
        }

        return File.Exists(overridePath)
            ? $"{PathVariable}={overridePath} could not be loaded as {Name}: check that it is a libvirt.so.0 for this architecture with its dependencies installed, or unset {PathVariable}."
            : $"{PathVariable}={overridePath} does not exist: point it at a {Name} file, or unset it to load {Name} from the library path.";
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
