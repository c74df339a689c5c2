using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Libvirt;

/// <summary>
/// A read-only libvirt connection. Not for concurrent use from several threads (libvirt errors are thread-local and
/// <see cref="LibvirtSession"/> owns one per worker thread); every failing call throws a <see cref="LibvirtException"/>.
/// </summary>
internal sealed unsafe partial class LibvirtConnection : IDisposable
{
    /// <summary>VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT: skip stats that need a domain job when another job holds it.</summary>
    internal const uint StatsNoWait = 1u << 29;

    /// <summary>VIR_CONNECT_LIST_DOMAINS_ACTIVE, valid for both ListAllDomains and GetAllDomainStats.</summary>
    internal const uint ListActive = 1;

    /// <summary>libvirt 4.5.0, the first with the NOWAIT flag, in virGetVersion's encoding.</summary>
    internal const ulong NoWaitMinimumVersion = 4_005_000;

    private readonly LibvirtConnectionHandle _handle;
    private bool _noWaitRejected;

    private LibvirtConnection(LibvirtConnectionHandle handle, string uri, ulong clientVersion, ulong daemonVersion)
    {
        _handle = handle;
        Uri = uri;
        ClientVersion = clientVersion;
        DaemonVersion = daemonVersion;
    }

    public string Uri { get; }

    /// <summary>libvirt.so.0's version (virGetVersion): major * 1,000,000 + minor * 1,000 + release.</summary>
    public ulong ClientVersion { get; }

    /// <summary>The connected driver's/daemon's libvirt version (virConnectGetLibVersion), same encoding; 0 if unknown.</summary>
    public ulong DaemonVersion { get; }

    /// <summary>Whether GetAllDomainStats adds VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT (both sides at least 4.5.0).</summary>
    public bool UsesNoWait => !_noWaitRejected && ClientVersion >= NoWaitMinimumVersion && (DaemonVersion == 0 || DaemonVersion >= NoWaitMinimumVersion);

    /// <summary>virConnectIsAlive: false once the daemon went away.</summary>
    public bool IsAlive => !_handle.IsClosed && Interop.Libvirt.virConnectIsAlive(_handle) == 1;

    /// <summary>The version of the libvirt.so.0 that was loaded.</summary>
    public static ulong GetClientVersion()
    {
        LibvirtErrors.EnsureLoaded();
        if (Interop.Libvirt.virGetVersion(out var version, IntPtr.Zero, IntPtr.Zero) < 0)
        {
            throw LibvirtErrors.Capture("virGetVersion");
        }

        return version;
    }

    /// <summary>Formats 9000000 as 9.0.0.</summary>
    public static string FormatVersion(ulong version) => $"{version / 1_000_000}.{version / 1000 % 1000}.{version % 1000}";

    /// <summary>Opens <paramref name="uri"/> read-only (virConnectOpenReadOnly); read-only access is all VmProbe needs.</summary>
    public static LibvirtConnection OpenReadOnly(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        var clientVersion = GetClientVersion();
        var raw = Interop.Libvirt.virConnectOpenReadOnly(uri);
        if (raw == IntPtr.Zero)
        {
            throw LibvirtErrors.Capture("virConnectOpenReadOnly", uri);
        }

        var handle = new LibvirtConnectionHandle(raw);
        LibvirtErrors.InstallSilentHandler(handle);
        ulong daemonVersion = 0;
        if (Interop.Libvirt.virConnectGetLibVersion(handle, out var version) == 0)
        {
            daemonVersion = version;
        }
        else
        {
            Interop.Libvirt.virResetLastError();
        }

        return new LibvirtConnection(handle, uri, clientVersion, daemonVersion);
    }

    /// <summary>
    /// Every domain (or only running ones) with name, uuid, id, state + reason, vCPUs and memory.
    /// A domain that vanishes between the listing and its info call is left out.
    /// </summary>
    public IReadOnlyList<LibvirtDomainInfo> ListDomains(bool includeInactive) =>
        ForEachDomain(includeInactive ? 0 : ListActive, TryDescribe);

    /// <summary>
    /// virConnectListAllDomains with <paramref name="flags"/>, then <paramref name="describe"/> on each domain; a null
    /// answer (the domain vanished meanwhile) is left out. Every handle is owned before the first describe and freed after
    /// the last, so a failure anywhere still frees them all.
    /// </summary>
    private List<T> ForEachDomain<T>(uint flags, Func<LibvirtDomainHandle, T?> describe)
        where T : class
    {
        ThrowIfDisposed();
        var count = Interop.Libvirt.virConnectListAllDomains(_handle, out var array, flags);
        if (count < 0)
        {
            throw LibvirtErrors.Capture("virConnectListAllDomains", Uri);
        }

        var domains = new LibvirtDomainHandle[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                domains[i] = new LibvirtDomainHandle(array[i]);
            }
        }
        finally
        {
            NativeMemory.Free(array);
        }

        var result = new List<T>(count);
        try
        {
            foreach (var domain in domains)
            {
                if (describe(domain) is { } item)
                {
                    result.Add(item);
                }
            }
        }
        finally
        {
            foreach (var domain in domains)
            {
                domain.Dispose();
            }
        }

        return result;
    }

    /// <summary>
    /// One virConnectGetAllDomainStats call for <paramref name="groups"/>, with NOWAIT where supported so that a domain
    /// whose job lock is held (migration, a hung monitor) does not stall the whole listing. Never with ENFORCE_STATS:
    /// libvirt 9.0's qemu driver then fails the whole call for a group (VIR_DOMAIN_STATS_VM) as soon as one defined
    /// domain is shut off; without it a daemon leaves out a group it lacks.
    /// </summary>
    public IReadOnlyList<DomainStats> GetAllDomainStats(DomainStatsGroups groups, bool includeInactive, bool includeRaw = false)
    {
        ThrowIfDisposed();
        var flags = includeInactive ? 0u : ListActive;
        var useNoWait = UsesNoWait;
        var count = Interop.Libvirt.virConnectGetAllDomainStats(_handle, (uint)groups, out var records, flags | (useNoWait ? StatsNoWait : 0));
        if (count < 0 && useNoWait)
        {
            var error = LibvirtErrors.Capture("virConnectGetAllDomainStats", Uri);
            if (error.Code is not (LibvirtErrorCode.InvalidArg or LibvirtErrorCode.ArgumentUnsupported))
            {
                throw error;
            }

            // A driver that does not know the flag rejects it; remember and ask without it, but only when that helped
            // (a group a driver rejects fails the same way with or without NOWAIT).
            count = Interop.Libvirt.virConnectGetAllDomainStats(_handle, (uint)groups, out records, flags);
            _noWaitRejected = count >= 0;
        }

        if (count < 0)
        {
            throw LibvirtErrors.Capture("virConnectGetAllDomainStats", Uri);
        }

        using var list = new LibvirtStatsRecordListHandle((IntPtr)records, count);
        return DecodeRecords(records, count, includeRaw);
    }

    public void Dispose() => _handle.Dispose();

    internal static List<DomainStats> DecodeRecords(VirDomainStatsRecord** records, int count, bool includeRaw)
    {
        var result = new List<DomainStats>(count);
        var uuid = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            var record = records[i];

            // The record list owns its domains: a non-owning handle, freed with the list, not here.
            using var borrowed = new LibvirtDomainHandle(record->Domain, ownsHandle: false);
            var namePtr = Interop.Libvirt.virDomainGetName(borrowed);
            var name = namePtr is null ? string.Empty : Marshal.PtrToStringUTF8((IntPtr)namePtr) ?? string.Empty;
            var id = Interop.Libvirt.virDomainGetUUID(borrowed, uuid) == 0 ? new Guid(new ReadOnlySpan<byte>(uuid, 16), bigEndian: true) : Guid.Empty;
            var stats = new DomainStats { Name = name, Uuid = id };
            DomainStatsDecoder.Decode(record->Params, record->ParamCount, stats, includeRaw);
            result.Add(stats);
        }

        return result;
    }

    private LibvirtDomainInfo? TryDescribe(LibvirtDomainHandle domain)
    {
        var namePtr = Interop.Libvirt.virDomainGetName(domain);
        if (namePtr is null)
        {
            throw LibvirtErrors.Capture("virDomainGetName", Uri);
        }

        var name = Marshal.PtrToStringUTF8((IntPtr)namePtr) ?? string.Empty;
        var uuid = stackalloc byte[16];
        if (Interop.Libvirt.virDomainGetUUID(domain, uuid) < 0)
        {
            throw LibvirtErrors.Capture("virDomainGetUUID", name);
        }

        var id = Interop.Libvirt.virDomainGetID(domain);
        if (Interop.Libvirt.virDomainGetInfo(domain, out var info) < 0)
        {
            var error = LibvirtErrors.Capture("virDomainGetInfo", name);
            if (error.Code == LibvirtErrorCode.NoDomain)
            {
                return null;
            }

            throw error;
        }

        var state = (VmDomainState)info.State;
        var reason = 0;
        if (Interop.Libvirt.virDomainGetState(domain, out var stateValue, out var reasonValue, 0) == 0)
        {
            state = (VmDomainState)stateValue;
            reason = reasonValue;
        }
        else
        {
            var error = LibvirtErrors.Capture("virDomainGetState", name);
            if (error.Code == LibvirtErrorCode.NoDomain)
            {
                return null;
            }

            throw error;
        }

        return new LibvirtDomainInfo(
            name,
            new Guid(new ReadOnlySpan<byte>(uuid, 16), bigEndian: true),
            id == uint.MaxValue ? -1 : (int)id,
            state,
            reason,
            info.VirtCpuCount,
            info.MaxMemKiB,
            info.MemoryKiB,
            info.CpuTimeNs);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
}
