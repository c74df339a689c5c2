using Xunit;
using VmProbe.Perf;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Perf;

public class CatalogTracepointTests
{
    [SkippableFact]
    public void ResolvesSchedSwitchFromTracefsMountingItIfNeeded()
    {
        Skip.IfNot(TracepointResolver.FindTracefs() is not null || Requirements.IsRoot, "tracefs is not mounted and mounting it needs root");
        string tracefs;
        try
        {
            tracefs = TracepointResolver.EnsureTracefs();
        }
        catch (TracepointException ex) when (ex.Kind == ProbeErrorKind.NotSupported)
        {
            Skip.If(true, "tracefs cannot be had here: " + ex.Message);
            throw;
        }

        var id = TracepointResolver.Resolve("sched:sched_switch");
        var expected = ulong.Parse(File.ReadAllText(Path.Combine(tracefs, "events", "sched", "sched_switch", "id")).Trim());
        Assert.Equal(expected, id);
        Assert.True(id > 0);
        Assert.Equal(id, TracepointResolver.Resolve("sched:sched_switch", tracefs));
    }

    [SkippableFact]
    public void MissingTracepointIsNotFoundAndNamesIt()
    {
        Skip.IfNot(TracepointResolver.FindTracefs() is not null || Requirements.IsRoot, "tracefs is not mounted and mounting it needs root");
        var ex = Assert.Throws<TracepointException>(() => TracepointResolver.Resolve("sched:sched_no_such_event"));
        Assert.Equal(ProbeErrorKind.NotFound, ex.Kind);
        Assert.Equal("tracepoint,ENOENT", ex.ErrorId);
        Assert.Equal("sched:sched_no_such_event", ex.TracepointName);
        Assert.Contains("'sched:sched_no_such_event'", ex.Message);
        Assert.Contains("has no tracepoint 'sched_no_such_event'", ex.Message);

        var noSubsystem = Assert.Throws<TracepointException>(() => TracepointResolver.Resolve("nosuchsubsys:foo"));
        Assert.Equal(ProbeErrorKind.NotFound, noSubsystem.Kind);
        Assert.Contains("no tracepoint subsystem 'nosuchsubsys'", noSubsystem.Message);
    }

    [Fact]
    public void ResolvesFromAGivenTracefsDirectory()
    {
        var root = Directory.CreateTempSubdirectory("vmprobe-tracefs-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "events", "kvm", "kvm_exit"));
            File.WriteAllText(Path.Combine(root, "events", "kvm", "kvm_exit", "id"), "1717\n");
            Assert.Equal(1717ul, TracepointResolver.Resolve("kvm:kvm_exit", root));
            var ex = Assert.Throws<TracepointException>(() => TracepointResolver.Resolve("kvm:kvm_entry", root));
            Assert.Equal(ProbeErrorKind.NotFound, ex.Kind);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("sched")]
    [InlineData("sched:")]
    [InlineData("../../etc:passwd")]
    [InlineData("a:b:c")]
    public void MalformedTracepointNamesAreInvalidArguments(string name)
    {
        var ex = Assert.Throws<TracepointException>(() => TracepointResolver.Resolve(name, "/nonexistent"));
        Assert.Equal(ProbeErrorKind.InvalidArgument, ex.Kind);
    }
}
