using VmProbe.Native;
using VmProbe.Perf;
using Xunit;

namespace VmProbe.Tests.Perf;

public class PerfPureTests
{
    [Theory]
    [InlineData("0-1\n", new[] { 0, 1 })]
    [InlineData("0", new[] { 0 })]
    [InlineData("0,2-4,8", new[] { 0, 2, 3, 4, 8 })]
    public void CpuListParses(string text, int[] expected) => Assert.Equal(expected, CpuList.Parse(text));

    [Theory]
    [InlineData("0-x")]
    [InlineData("3-1")]
    public void CpuListRejectsBadInput(string text)
    {
        var ex = Assert.Throws<VmProbeException>(() => CpuList.Parse(text, "online"));
        Assert.Contains("online", ex.Message);
        Assert.Equal(ProbeErrorKind.InvalidData, ex.Kind);
    }

    [Fact]
    public void ScalingForMultiplexing()
    {
        var half = PerfCount.FromRaw(1000, 200, 100);
        Assert.Equal(2000, half.Scaled);
        Assert.Equal(0.5, half.RunningRatio);
        Assert.Equal(0, PerfCount.FromRaw(1000, 200, 0).Scaled);
        Assert.Equal(1000, PerfCount.FromRaw(1000, 200, 200).Scaled);
        var sum = half + PerfCount.FromRaw(10, 5, 5);
        Assert.Equal(1010UL, sum.Raw);
        Assert.Equal(2010, sum.Scaled);
    }

    [Theory]
    [InlineData(Errno.EACCES, ProbeErrorKind.PermissionDenied, "perf_event_open,EACCES")]
    [InlineData(Errno.EPERM, ProbeErrorKind.PermissionDenied, "perf_event_open,EPERM")]
    [InlineData(Errno.ENOENT, ProbeErrorKind.NotSupported, "perf_event_open,ENOENT")]
    [InlineData(Errno.EOPNOTSUPP, ProbeErrorKind.NotSupported, "perf_event_open,EOPNOTSUPP")]
    [InlineData(Errno.ESRCH, ProbeErrorKind.NotFound, "perf_event_open,ESRCH")]
    [InlineData(Errno.EMFILE, ProbeErrorKind.ResourceUnavailable, "perf_event_open,EMFILE")]
    [InlineData(Errno.EINVAL, ProbeErrorKind.InvalidArgument, "perf_event_open,EINVAL")]
    [InlineData(Errno.E2BIG, ProbeErrorKind.InvalidArgument, "perf_event_open,E2BIG")]
    public void ErrnoMapsToTypedException(int errno, ProbeErrorKind kind, string errorId)
    {
        var ex = PerfEventException.FromErrno("perf_event_open", errno, "cycles", "thread 42");
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(errno, ex.Errno);
        Assert.Contains("cycles", ex.Message);
        Assert.Contains("thread 42", ex.Message);
        Assert.Equal(kind == ProbeErrorKind.NotSupported, ex is PerfEventNotSupportedException);
    }
}
