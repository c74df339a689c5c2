using VmProbe.Libvirt;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Libvirt;

/// <summary>LibvirtConnection against libvirt's own test:/// driver (no daemon needed).</summary>
public class LibvirtConnectionTests
{
    [SkippableFact]
    public void DefaultTestDriverListsItsRunningDomain()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var connection = LibvirtConnection.OpenReadOnly(LibvirtTestDriver.DefaultUri);

        var domain = Assert.Single(connection.ListDomains(includeInactive: true));
        Assert.Equal("test", domain.Name);
        Assert.Equal(VmDomainState.Running, domain.State);
        Assert.True(domain.Id > 0);
        Assert.True(domain.VcpuCount >= 1);
        Assert.True(domain.MemoryKiB > 0);
        Assert.NotEqual(Guid.Empty, domain.Uuid);

        var virsh = Requirements.FindCommand("virsh");
        Skip.If(virsh is null, "virsh (libvirt-clients) is not installed: uuid and id not cross-checked");
        var uuid = Requirements.Run(virsh!, "-c test:///default domuuid test");
        Assert.Equal(0, uuid.ExitCode);
        Assert.Equal(Guid.Parse(uuid.Stdout.Trim()), domain.Uuid);
        var id = Requirements.Run(virsh!, "-c test:///default domid test");
        Assert.Equal(int.Parse(id.Stdout.Trim()), domain.Id);
    }

    [SkippableFact]
    public void VersionsAreReportedAndNoWaitIsUsedOnModernLibvirt()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var connection = LibvirtConnection.OpenReadOnly(LibvirtTestDriver.DefaultUri);
        Assert.True(connection.ClientVersion >= 1_000_000, $"client version {connection.ClientVersion}");
        Assert.Equal(connection.ClientVersion >= LibvirtConnection.NoWaitMinimumVersion, connection.UsesNoWait);
        Assert.True(connection.IsAlive);

        var virsh = Requirements.FindCommand("virsh");
        Skip.If(virsh is null, "virsh not installed: version string not cross-checked");
        var version = Requirements.Run(virsh!, "--version");
        Assert.Equal(version.Stdout.Trim(), LibvirtConnection.FormatVersion(connection.ClientVersion));
    }

    [SkippableFact]
    public void DefaultTestDriverBulkStatsCarryState()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var connection = LibvirtConnection.OpenReadOnly(LibvirtTestDriver.DefaultUri);
        var listed = Assert.Single(connection.ListDomains(includeInactive: true));

        var stats = Assert.Single(connection.GetAllDomainStats(DomainStatsGroups.Default, includeInactive: true, includeRaw: true));
        Assert.Equal("test", stats.Name);
        Assert.Equal(listed.Uuid, stats.Uuid);
        Assert.Equal(VmDomainState.Running, stats.State);
        Assert.Equal(0, stats.StateReason);
        Assert.Equal(1, Assert.IsType<int>(stats.Raw!["state.state"]));
    }

    [SkippableFact]
    public void CustomNodeFileWithAwkwardNamesAndMixedStates()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        using var connection = LibvirtConnection.OpenReadOnly(LibvirtTestDriver.NodeUri);

        var all = connection.ListDomains(includeInactive: true).ToDictionary(d => d.Name);
        Assert.Equal(new[] { "backup.v2-old", "db main", "o'neil \"quoted\"", "web-01.prod" }, all.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(VmDomainState.Running, all["web-01.prod"].State);
        Assert.Equal(VmDomainState.Running, all["db main"].State);
        Assert.Equal(VmDomainState.Shutoff, all["o'neil \"quoted\""].State);
        Assert.Equal(VmDomainState.Shutoff, all["backup.v2-old"].State);
        Assert.Equal(-1, all["backup.v2-old"].Id);
        Assert.True(all["web-01.prod"].Id > 0);
        Assert.Equal(Guid.Parse("11111111-2222-3333-4444-555555555555"), all["web-01.prod"].Uuid);
        Assert.Equal(Guid.Parse("33333333-4444-5555-6666-777777777777"), all["o'neil \"quoted\""].Uuid);
        Assert.Equal(2, all["web-01.prod"].VcpuCount);
        Assert.Equal(262144UL, all["web-01.prod"].MaxMemoryKiB);

        var active = connection.ListDomains(includeInactive: false);
        Assert.Equal(new[] { "db main", "web-01.prod" }, active.Select(d => d.Name).Order(StringComparer.Ordinal));

        var stats = connection.GetAllDomainStats(DomainStatsGroups.State, includeInactive: true).ToDictionary(s => s.Name);
        Assert.Equal(4, stats.Count);
        Assert.Equal(VmDomainState.Shutoff, stats["o'neil \"quoted\""].State);
        Assert.Equal(VmDomainState.Running, stats["db main"].State);
        Assert.Equal(all["db main"].Uuid, stats["db main"].Uuid);

        var activeStats = connection.GetAllDomainStats(DomainStatsGroups.State, includeInactive: false);
        Assert.Equal(2, activeStats.Count);
    }

    [SkippableFact]
    public void UnknownUriThrowsTypedErrorWithLibvirtCode()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var ex = Assert.Throws<LibvirtException>(() => LibvirtConnection.OpenReadOnly("vmprobe-bogus:///nothing"));
        Assert.NotEqual(0, ex.Code);
        Assert.Equal("virConnectOpenReadOnly," + LibvirtErrorCode.NameOf(ex.Code), ex.ErrorId);
        Assert.StartsWith("virConnectOpenReadOnly (vmprobe-bogus:///nothing) failed: ", ex.Message);
        Assert.Equal(ProbeErrorKind.ConnectionError, ex.Kind);
        Assert.True(ex.IsConnectionLost);
        Assert.NotNull(ex.LibvirtMessage);
        Assert.NotNull(ex.RecommendedAction);
    }

    [SkippableFact]
    public void DisposedConnectionRefusesCalls()
    {
        Skip.IfNot(LibvirtTestDriver.Available, LibvirtTestDriver.WhyUnavailable);
        var connection = LibvirtConnection.OpenReadOnly(LibvirtTestDriver.DefaultUri);
        connection.Dispose();
        connection.Dispose();
        Assert.Throws<ObjectDisposedException>(() => connection.ListDomains(true));
        Assert.False(connection.IsAlive);
    }

    [Fact]
    public void ErrorCodeNamesAndKinds()
    {
        Assert.Equal("VIR_ERR_NO_CONNECT", LibvirtErrorCode.NameOf(5));
        Assert.Equal("VIR_ERR_NO_DOMAIN", LibvirtErrorCode.NameOf(42));
        Assert.Equal("VIR_ERR_ACCESS_DENIED", LibvirtErrorCode.NameOf(88));
        Assert.Equal("VIR_ERR_MULTIPLE_DOMAINS", LibvirtErrorCode.NameOf(110));
        Assert.Equal("VIR_ERR_999", LibvirtErrorCode.NameOf(999));
        Assert.Equal(ProbeErrorKind.PermissionDenied, LibvirtErrorCode.KindOf(LibvirtErrorCode.AuthFailed));
        Assert.Equal(ProbeErrorKind.NotFound, LibvirtErrorCode.KindOf(LibvirtErrorCode.NoDomain));
        Assert.Equal(ProbeErrorKind.ConnectionError, LibvirtErrorCode.KindOf(LibvirtErrorCode.Rpc));
        Assert.Equal(ProbeErrorKind.NotSupported, LibvirtErrorCode.KindOf(LibvirtErrorCode.NoSupport));
    }
}
