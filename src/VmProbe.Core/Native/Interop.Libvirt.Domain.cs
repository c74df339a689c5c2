using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>libvirt-domain.h: domains, their info and the bulk stats records (structs in LibvirtStructs.cs).</summary>
    internal static unsafe partial class Libvirt
    {
        [LibraryImport(Libraries.Libvirt)]
        public static partial int virConnectListAllDomains(LibvirtConnectionHandle conn, out IntPtr* domains, uint flags);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainFree(IntPtr domain);

        /// <summary>Returns a pointer owned by the domain object: never free it. A stats record's borrowed domain goes
        /// through a non-owning <see cref="LibvirtDomainHandle"/>.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial byte* virDomainGetName(LibvirtDomainHandle domain);

        /// <summary>Writes VIR_UUID_BUFLEN (16) raw bytes.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetUUID(LibvirtDomainHandle domain, byte* uuid);

        /// <summary>Writes VIR_UUID_STRING_BUFLEN (37) bytes including the terminator.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetUUIDString(LibvirtDomainHandle domain, byte* buf);

        /// <summary>Returns (unsigned int)-1 for an inactive domain.</summary>
        [LibraryImport(Libraries.Libvirt)]
        public static partial uint virDomainGetID(LibvirtDomainHandle domain);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetState(LibvirtDomainHandle domain, out int state, out int reason, uint flags);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetInfo(LibvirtDomainHandle domain, out VirDomainInfo info);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetMaxVcpus(LibvirtDomainHandle domain);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virDomainGetVcpus(LibvirtDomainHandle domain, VirVcpuInfo* info, int maxinfo, byte* cpumaps, int maplen);

        [LibraryImport(Libraries.Libvirt)]
        public static partial int virConnectGetAllDomainStats(LibvirtConnectionHandle conn, uint stats, out VirDomainStatsRecord** retStats, uint flags);

        [LibraryImport(Libraries.Libvirt)]
        public static partial void virDomainStatsRecordListFree(IntPtr stats);

        [LibraryImport(Libraries.Libvirt)]
        public static partial void virTypedParamsFree(VirTypedParameter* @params, int nparams);
    }
}
