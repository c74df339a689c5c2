namespace VmProbe.Composition;

/// <summary>Where <see cref="ProbeComposition"/> looks for the host's files; the defaults are the real host's (tests point them at fixtures).</summary>
public sealed class ProbeCompositionOptions
{
    public static readonly ProbeCompositionOptions Default = new();

    /// <summary>The directory holding <c>proc/</c> (and <c>sys/fs/cgroup</c> unless <see cref="CgroupRoot"/> is set).</summary>
    public string Root { get; init; } = "/";

    /// <summary>The cgroup mount root; null for <c>{Root}/sys/fs/cgroup</c>.</summary>
    public string? CgroupRoot { get; init; }

    /// <summary>Where libvirt's QEMU driver writes <c>NAME.pid</c> for each running domain.</summary>
    public string LibvirtPidDirectory { get; init; } = "/run/libvirt/qemu";

    /// <summary>
    /// The cap of a libvirt call's deadline: each call gets min(delay / 2, this) before the cycle goes on without it
    /// (see <see cref="Libvirt.LibvirtSession.DeadlineFor"/>).
    /// </summary>
    public TimeSpan LibvirtCallTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
