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

    /// <summary>The longest a single libvirt call may take before the connection is abandoned and reopened.</summary>
    public TimeSpan LibvirtCallTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
