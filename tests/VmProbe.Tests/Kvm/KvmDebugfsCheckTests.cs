using VmProbe.Kvm;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Kvm;

/// <summary>
/// Why KVM's debugfs cannot serve, named once and by its actual cause: not mounted (and mounted only at the default
/// mount point), no kvm directory, kernel lockdown. Causes on fixture trees; the mount and lockdown's refusal for real.
/// </summary>
public sealed class KvmDebugfsCheckTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kvm-debugfs-check-").FullName;

    private string Fixture(bool writableStat)
    {
        var kvm = Directory.CreateDirectory(Path.Combine(_root, "debug", "kvm")).FullName;
        var file = Path.Combine(kvm, "exits");
        File.WriteAllText(file, "12\n");
#pragma warning disable CA1416 // Linux only, as the engine
        File.SetUnixFileMode(file, writableStat ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead);
#pragma warning restore CA1416
        return Path.Combine(_root, "debug");
    }

    [Fact]
    public void AnExplicitPathIsNeverMountedAndTheCauseNamesIt()
    {
        var debugfs = new KvmDebugfs(Path.Combine(_root, "elsewhere"));

        Assert.False(debugfs.Usable);
        Assert.False(debugfs.MountedHere);
        var cause = debugfs.Check()!;
        Assert.Contains("elsewhere/kvm does not exist", cause);
        Assert.Contains("VMPROBE_DEBUGFS", cause);
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mounts"), l => l.Contains(_root, StringComparison.Ordinal));
    }

    [Fact]
    public void ARefusedWritableStatIsLockdownNamedByTheLockdownFile()
    {
        var mount = Fixture(writableStat: true);
        var lockdown = Path.Combine(_root, "lockdown");
        File.WriteAllText(lockdown, "none [integrity] confidentiality\n");

        var cause = KvmDebugfsCheck.Check(mount, mayMount: false, out _, lockdownFile: lockdown, refused: _ => true);
        Assert.Contains("kernel lockdown (integrity", cause);

        var unknown = KvmDebugfsCheck.Check(mount, mayMount: false, out _, lockdownFile: Path.Combine(_root, "absent"), refused: _ => true);
        Assert.Contains("is refused (kernel lockdown, most likely", unknown);

        Assert.Null(KvmDebugfsCheck.Check(mount, mayMount: false, out _, lockdownFile: lockdown)); // opens: usable, lockdown or not
        Assert.True(new KvmDebugfs(mount, mayMount: false).Usable);
        Assert.False(new KvmDebugfs(mount, mayMount: false, refused: _ => true).Usable);
    }

    [Fact]
    public void OnlyWritableFilesAreTriedForLockdown()
    {
        var mount = Fixture(writableStat: false);
        Assert.Null(KvmDebugfsCheck.Check(mount, mayMount: false, out _, refused: _ => true));
    }

    [Theory]
    [InlineData("none [integrity] confidentiality\n", "integrity")]
    [InlineData("none integrity [confidentiality]\n", "confidentiality")]
    [InlineData("[none] integrity confidentiality\n", null)]
    [InlineData("[integrity\n", null)]
    [InlineData("", null)]
    public void TheLockdownModeIsTheBracketedWord(string text, string? expected)
    {
        var file = Path.Combine(_root, "lockdown");
        File.WriteAllText(file, text);
        Assert.Equal(expected, KvmDebugfsCheck.Lockdown(file));
    }

    /// <summary>Mounts debugfs for real on a scratch directory (as at /sys/kernel/debug), and checks lockdown's refusal of writable files.</summary>
    [SkippableFact]
    public void DebugfsIsMountedWhenMissingAndTheCauseIsTheRealOne()
    {
        Skip.IfNot(Requirements.IsRoot, "mounting debugfs needs root");
        var target = Directory.CreateDirectory(Path.Combine(_root, "mnt")).FullName;
        var debugfs = new KvmDebugfs(target, mayMount: true);
        try
        {
            var cause = debugfs.Check();
            Skip.If(cause is not null && cause.Contains("failed:", StringComparison.Ordinal), $"debugfs cannot be mounted here: {cause}");
            Assert.True(debugfs.MountedHere);
            Assert.True(KvmDebugfsCheck.IsDebugfsMounted(target, "/proc/self/mounts"));
            if (Directory.Exists(Path.Combine(target, "kvm")))
            {
                Assert.True(cause is null || cause.Contains("lockdown", StringComparison.Ordinal), cause);
            }
            else
            {
                Assert.Contains("(mounted now) has no kvm directory: no KVM module", cause); // this machine: CONFIG_KVM without a vendor module
            }

            // Lockdown (integrity or stricter) refuses debugfs files that can be written; securityfs tells whether it is on.
            var security = Directory.CreateDirectory(Path.Combine(_root, "security")).FullName;
            if (Requirements.Run("mount", $"-t securityfs nodev {security}").ExitCode == 0)
            {
                try
                {
                    var lockdown = KvmDebugfsCheck.Lockdown(Path.Combine(security, "lockdown"));
                    var writable = Path.Combine(target, "sched", "features");
                    Skip.IfNot(File.Exists(writable), $"{writable} is absent: no writable debugfs file to try");
                    Assert.Equal(lockdown is not null, KvmDebugfsCheck.IsRefused(writable));
                }
                finally
                {
                    Requirements.Run("umount", security);
                }
            }
        }
        finally
        {
            if (KvmDebugfsCheck.IsDebugfsMounted(target, "/proc/self/mounts"))
            {
                Requirements.Run("umount", target);
            }
        }

        Assert.False(KvmDebugfsCheck.IsDebugfsMounted(target, "/proc/self/mounts"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a mount that could not be undone keeps its directory; the assertion above reports it
        }
    }
}
