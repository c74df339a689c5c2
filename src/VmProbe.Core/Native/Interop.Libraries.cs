namespace VmProbe.Native;

/// <summary>
/// Every P/Invoke of the engine is declared once, in a file of this folder named after the function (or its tight group),
/// as a member of <c>Interop.Libc</c> or <c>Interop.Libvirt</c>. Callers turn errno or libvirt errors into their own
/// exceptions: this layer only returns what the C function returned.
/// </summary>
internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>glibc; the runtime resolves the bare name to libc.so.6.</summary>
        internal const string Libc = "libc";

        /// <summary>The exact soname: the unversioned libvirt.so only exists where libvirt-dev is installed.</summary>
        internal const string Libvirt = "libvirt.so.0";

        /// <summary>Debian's libbpf1 by its soname (libbpf.so without a version exists only with libbpf-dev).</summary>
        internal const string Libbpf = "libbpf.so.1";
    }
}
