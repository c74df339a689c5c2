using Xunit;
using System.Management.Automation;
using VmProbe.Commands;

namespace VmProbe.Tests.Module;

public class CommandHelperTests
{
    [Theory]
    [InlineData("Cycles", "cycles")]
    [InlineData("CacheMisses", "cache_misses")]
    [InlineData("TaskClock", "task_clock")]
    [InlineData("task-clock", "task_clock")]
    [InlineData("cpu_cycles", "cpu_cycles")]
    [InlineData("LLCLoadMisses", "llc_load_misses")]
    [InlineData("L1DcacheLoads", "l1_dcache_loads")]
    public void EventNamesBecomeSnakeCase(string input, string expected) => Assert.Equal(expected, PerfEventNames.ToSnakeCase(input));

    [Fact]
    public void CandidatesTryTheLiteralNameFirst()
    {
        Assert.Equal(new[] { "CacheMisses", "cache_misses" }, PerfEventNames.Candidates("CacheMisses"));
        Assert.Equal(new[] { "cache_misses" }, PerfEventNames.Candidates(" cache_misses "));
    }

    [Theory]
    [InlineData(ProbeErrorKind.PermissionDenied, ErrorCategory.PermissionDenied)]
    [InlineData(ProbeErrorKind.NotFound, ErrorCategory.ObjectNotFound)]
    [InlineData(ProbeErrorKind.InvalidArgument, ErrorCategory.InvalidArgument)]
    [InlineData(ProbeErrorKind.InvalidData, ErrorCategory.InvalidData)]
    [InlineData(ProbeErrorKind.ResourceUnavailable, ErrorCategory.ResourceUnavailable)]
    [InlineData(ProbeErrorKind.NotSupported, ErrorCategory.NotImplemented)]
    [InlineData(ProbeErrorKind.ConnectionError, ErrorCategory.ConnectionError)]
    [InlineData(ProbeErrorKind.Timeout, ErrorCategory.OperationTimeout)]
    [InlineData(ProbeErrorKind.Unknown, ErrorCategory.NotSpecified)]
    public void ErrorKindsMapToCategories(ProbeErrorKind kind, ErrorCategory category) => Assert.Equal(category, ErrorRecordFactory.CategoryFor(kind));

    [Fact]
    public void EngineErrorIdIsKeptAsTheErrorId()
    {
        var (id, category) = ErrorRecordFactory.Classify(new VmProbeException("denied", "perf_event_open,EACCES", ProbeErrorKind.PermissionDenied));
        Assert.Equal(("perf_event_open,EACCES", ErrorCategory.PermissionDenied), (id, category));
    }
}
