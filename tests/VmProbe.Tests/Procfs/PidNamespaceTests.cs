using System.Diagnostics;
using VmProbe.Procfs;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Procfs;

/// <summary>
/// eBPF programs see the host's pids: inside a PID namespace /proc's differ, and the task iterator (which also finds the
/// QEMUs) is not used there. The namespace is told by the /proc/self/ns/pid link, checked in a real child namespace
/// with its own /proc, as in a container.
/// </summary>
public class PidNamespaceTests
{
    [SkippableFact]
    public void AProcessInAChildPidNamespaceIsToldApart()
    {
        Skip.IfNot(Requirements.IsRoot, "unshare --pid needs root");
        var unshare = Requirements.FindCommand("unshare");
        Skip.If(unshare is null, "unshare (util-linux) is not installed");
        var psi = new ProcessStartInfo(unshare!, new[] { "--pid", "--fork", "--mount-proc", "readlink", "/proc/self/ns/pid" })
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var child = Process.Start(psi)!;
        var link = child.StandardOutput.ReadToEnd().Trim();
        child.WaitForExit();
        Skip.If(child.ExitCode != 0, $"unshare failed here: {child.StandardError.ReadToEnd()}");

        Assert.StartsWith("pid:[", link, StringComparison.Ordinal);
        Assert.True(ProcFs.IsChildPidNamespaceLink(link));
        Assert.False(ProcFs.IsChildPidNamespaceLink("pid:[4026531836]"));
        Skip.If(ProcFs.InChildPidNamespace(), "this test process itself runs in a PID namespace (a container)");
        Assert.NotEqual(new FileInfo("/proc/self/ns/pid").LinkTarget, link);
    }
}
