using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>virterror.h: the thread-local last error and the error callbacks (see <see cref="LibvirtLastError"/>).</summary>
    internal static unsafe partial class Libvirt
    {
        [LibraryImport(Libraries.Libvirt)]
        public static partial void virSetErrorFunc(IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

        [LibraryImport(Libraries.Libvirt)]
        public static partial void virConnSetErrorFunc(LibvirtConnectionHandle conn, IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

        /// <summary>The calling thread's last error, or null; owned by libvirt (thread-local).</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial VirError* virGetLastError();

        [LibraryImport(Libraries.Libvirt)]
        public static partial void virResetLastError();
    }
}
