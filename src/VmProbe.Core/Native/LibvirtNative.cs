using System.Runtime.InteropServices;

namespace VmProbe.Native;

/// <summary>
/// P/Invoke declarations for libvirt.so.0, grouped by the header that declares them. Callers go through
/// <see cref="LibvirtLibrary.EnsureLoaded"/> first (LibvirtConnection does). C <c>unsigned long</c> is 64-bit (LP64 Linux).
/// </summary>
internal static unsafe partial class LibvirtNative
{
    // ---- libvirt-host.h ----

    /// <summary>virConnectFlags.VIR_CONNECT_RO.</summary>
    public const uint ConnectReadOnly = 1;

    [LibraryImport(LibvirtLibrary.Name, StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr virConnectOpenReadOnly(string? name);

    [LibraryImport(LibvirtLibrary.Name, StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr virConnectOpenAuth(string? name, IntPtr auth, uint flags);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virConnectClose(IntPtr conn);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virConnectGetLibVersion(LibvirtConnectionHandle conn, out ulong libVer);

    /// <summary>Version of the client library: major * 1,000,000 + minor * 1,000 + release.</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virGetVersion(out ulong libVer, IntPtr type, IntPtr typeVer);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virConnectIsAlive(LibvirtConnectionHandle conn);

    // ---- libvirt-domain.h ----

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virConnectListAllDomains(LibvirtConnectionHandle conn, out IntPtr* domains, uint flags);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainFree(IntPtr domain);

    /// <summary>Returns a pointer owned by the domain object: never free it.</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial byte* virDomainGetName(LibvirtDomainHandle domain);

    /// <summary>Writes VIR_UUID_BUFLEN (16) raw bytes.</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetUUID(LibvirtDomainHandle domain, byte* uuid);

    /// <summary>Writes VIR_UUID_STRING_BUFLEN (37) bytes including the terminator.</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetUUIDString(LibvirtDomainHandle domain, byte* buf);

    /// <summary>Returns (unsigned int)-1 for an inactive domain.</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial uint virDomainGetID(LibvirtDomainHandle domain);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetState(LibvirtDomainHandle domain, out int state, out int reason, uint flags);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetInfo(LibvirtDomainHandle domain, out VirDomainInfo info);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetMaxVcpus(LibvirtDomainHandle domain);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virDomainGetVcpus(LibvirtDomainHandle domain, VirVcpuInfo* info, int maxinfo, byte* cpumaps, int maplen);

    /// <summary>For the borrowed virDomainPtr inside a stats record (owned by the record list).</summary>
    [LibraryImport(LibvirtLibrary.Name, EntryPoint = "virDomainGetName")]
    public static partial byte* virDomainGetNameBorrowed(IntPtr domain);

    [LibraryImport(LibvirtLibrary.Name, EntryPoint = "virDomainGetUUID")]
    public static partial int virDomainGetUUIDBorrowed(IntPtr domain, byte* uuid);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial int virConnectGetAllDomainStats(LibvirtConnectionHandle conn, uint stats, out VirDomainStatsRecord** retStats, uint flags);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial void virDomainStatsRecordListFree(IntPtr stats);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial void virTypedParamsFree(VirTypedParameter* @params, int nparams);

    // ---- virterror.h ----

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial void virSetErrorFunc(IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial void virConnSetErrorFunc(LibvirtConnectionHandle conn, IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

    /// <summary>The calling thread's last error, or null; owned by libvirt (thread-local).</summary>
    [LibraryImport(LibvirtLibrary.Name)]
    public static partial VirError* virGetLastError();

    [LibraryImport(LibvirtLibrary.Name)]
    public static partial void virResetLastError();
}
