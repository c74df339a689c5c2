namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// Tests that observe or change the whole process (count its fds, fill a small filesystem and expect the space back,
/// name its threads like vCPUs) must not run beside tests that open files, fork children or discover this process:
/// a child inherits every fd until it execs, and a thread named <c>CPU n/KVM</c> changes what discovery finds.
/// xunit runs this collection on its own, after the parallel ones.
/// </summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection : Xunit.ICollectionFixture<ProcessWidePhase>
{
    public const string Name = "process-wide (fd counting, not parallel)";
}

/// <summary>Created when the process-wide collection starts, after every parallel test has ended.</summary>
public sealed class ProcessWidePhase
{
    private static volatile bool started;

    public ProcessWidePhase() => started = true;

    /// <summary>Fails a process-wide change (a thread renamed like a vCPU) made from a test outside the collection.</summary>
    public static void Require(string what)
    {
        if (!started)
        {
            throw new InvalidOperationException($"{what} changes the whole test process: its test class belongs in [Collection(ProcessWideCollection.Name)]");
        }
    }
}
