using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>libvirt-host.h. Reached through <see cref="LibvirtLibrary"/>'s resolver (VMPROBE_LIBVIRT_PATH, lazy load). C <c>unsigned long</c> is 64-bit (LP64).</summary>
    internal static unsafe partial class Libvirt
    {
        /// <summary>virConnectFlags.VIR_CONNECT_RO.</summary>
        public const uint ConnectReadOnly = 1;

        [LibraryImport(Libraries.Libvirt, StringMarshalling = StringMarshalling.Utf8)]
        public static partial IntPtr virConnectOpenReadOnly(string? name);

        [LibraryImport(Libraries.Libvirt, StringMarshalling = StringMarshalling.Utf8)]
        public static partial IntPtr virConnectOpenAuth(string? name, IntPtr auth, uint flags);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virConnectClose(IntPtr conn);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virConnectGetLibVersion(LibvirtConnectionHandle conn, out ulong libVer);

        /// <summary>Version of the client library: major * 1,000,000 + minor * 1,000 + release.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial int virGetVersion(out ulong libVer, IntPtr type, IntPtr typeVer);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virConnectIsAlive(LibvirtConnectionHandle conn);
    }
}
