using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libvirt
    {
        /// <summary>The domain's live XML (flags 0: no secrets, allowed on a read-only connection); the caller frees it with free(), or NULL.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial byte* virDomainGetXMLDesc(LibvirtDomainHandle domain, uint flags);
    }
}
