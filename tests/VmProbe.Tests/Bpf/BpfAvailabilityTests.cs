using VmProbe.Bpf;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>Where eBPF cannot run, the reason is typed and the text says what to install or fix.</summary>
public class BpfAvailabilityTests
{
    [Fact]
    public void AMissingLibbpfIsLibraryMissing()
    {
        var error = Assert.Throws<BpfUnavailableException>(() => BpfAvailability.Check(libraryName: "libbpf.so.999"));
        Assert.Equal(BpfUnavailableReason.LibraryMissing, error.Reason);
        Assert.Equal(ProbeErrorKind.NotFound, error.Kind);
        Assert.Contains("libbpf.so.999", error.Message);
        Assert.Contains("libbpf1", error.Message);
    }

    [SkippableFact]
    public void MissingBtfIsNoBtf()
    {
        Skip.IfNot(BpfAvailability.Probe() is null || BpfAvailability.Probe()!.Reason != BpfUnavailableReason.LibraryMissing, "libbpf.so.1 is not installed");
        var error = Assert.Throws<BpfUnavailableException>(() => BpfAvailability.Check(btfPath: "/nonexistent/vmlinux"));
        Assert.Equal(BpfUnavailableReason.NoBtf, error.Reason);
        Assert.Contains("/nonexistent/vmlinux", error.Message);
    }

    [Fact]
    public void LockdownModeIsReadFromTheBracketedWord()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "none integrity [confidentiality]\n");
            Assert.Equal("confidentiality", BpfAvailability.ReadLockdown(file));
            File.WriteAllText(file, "garbage");
            Assert.Null(BpfAvailability.ReadLockdown(file));
            Assert.Null(BpfAvailability.ReadLockdown("/nonexistent/lockdown"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AHistogramBucketCoversItsPowerOfTwo()
    {
        Assert.Equal(0UL, BpfHistogram.LowerBoundNs(0));
        Assert.Equal(1024UL, BpfHistogram.LowerBoundNs(10));
        Assert.Equal(2048UL, BpfHistogram.UpperBoundNs(10));
    }
}
