using System.Reflection;
using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// Finds and loads libvirt.so.0 once. The DllImport resolver (LibraryImport goes through it too) lets
/// <c>VMPROBE_LIBVIRT_PATH</c> point at another build, and loading up front lets the Libvirt layer turn a missing library
/// into its own clear exception at first use instead of a DllNotFoundException from deep inside a call.
/// </summary>
internal static class LibvirtLibrary
{
    public const string Name = Interop.Libraries.Libvirt;

    public const string PathVariable = "VMPROBE_LIBVIRT_PATH";

    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static string? _loadFailure;
    private static bool _resolverInstalled;

    /// <summary>
    /// Loads the library (once) and silences libvirt's default stderr error printer. False with a one-line reason
    /// (library, variable, fix) when it cannot be loaded; the first failure is remembered, not retried.
    /// </summary>
    public static bool TryLoad(out string? failure)
    {
        failure = null;
        if (_handle != IntPtr.Zero)
        {
            return true;
        }

        lock (Gate)
        {
            if (_handle != IntPtr.Zero)
            {
                return true;
            }

            if (_loadFailure is not null)
            {
                failure = _loadFailure;
                return false;
            }

            InstallResolver();
            var overridePath = Environment.GetEnvironmentVariable(PathVariable);
            var loaded = string.IsNullOrWhiteSpace(overridePath)
                ? NativeLibrary.TryLoad(Name, typeof(LibvirtLibrary).Assembly, null, out var handle)
                : NativeLibrary.TryLoad(overridePath, out handle); // the exact file: no name variations, no search path
            if (!loaded)
            {
                failure = _loadFailure = DescribeLoadFailure(overridePath);
                return false;
            }

            _handle = handle;
            LibvirtLastError.InstallSilentHandler();
            return true;
        }
    }

    /// <summary>
    /// Routes libvirt P/Invokes through <see cref="TryLoad"/> without loading anything now (the module's import
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

        if (_handle == IntPtr.Zero && !TryLoad(out var failure))
        {
            // A P/Invoke reached before the Libvirt layer loaded the library: the same clear text, in the runtime's own exception.
            throw new DllNotFoundException(failure);
        }

        return _handle;
    }
}
