namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// Tests that observe the whole process (count its fds, fill a small filesystem and expect the space back) must not
/// run beside tests that open files or fork children: a child inherits every fd until it execs. xunit runs this
/// collection on its own, after the parallel ones.
/// </summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide (fd counting, not parallel)";
}
