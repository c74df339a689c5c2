using VmProbe.Bpf;
using VmProbe.Tests.Infrastructure;

namespace VmProbe.Tests.Bpf;

/// <summary>
/// Whether this machine can load eBPF programs for real (root, libbpf.so.1, kernel BTF, tracefs for the tracepoints).
/// Tests call <c>Skip.IfNot(BpfHost.Available, BpfHost.SkipReason)</c>.
/// </summary>
public static class BpfHost
{
    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (BpfAvailability.Probe() is { } error)
        {
            return error.Message;
        }

        return Directory.Exists("/sys/kernel/tracing/events/raw_syscalls")
            ? null
            : "tracefs is not mounted at /sys/kernel/tracing (mount -t tracefs nodev /sys/kernel/tracing)";
    });

    public static bool Available => Missing.Value is null;

    public static string SkipReason => "eBPF unavailable: " + Missing.Value;

    /// <summary>Open fds of this process that are BPF programs, maps or links (anon_inode:bpf-prog, bpf-map, bpf-link).</summary>
    public static int OpenBpfFdCount() => BpfFds().Count;

    /// <summary>fd -> link target for the BPF fds of this process.</summary>
    public static Dictionary<int, string> BpfFds()
    {
        var result = new Dictionary<int, string>();
        foreach (var fd in new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos())
        {
            try
            {
                if (fd.LinkTarget is { } target && target.StartsWith("anon_inode:bpf", StringComparison.Ordinal))
                {
                    result[int.Parse(fd.Name)] = target;
                }
            }
            catch (IOException)
            {
                // closed while listing
            }
        }

        return result;
    }

    /// <summary>Instructions the verifier processed for a loaded program (fdinfo's verified_insns:, Linux 5.16+), else null.</summary>
    public static long? VerifiedInstructions(int fd)
    {
        foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
        {
            if (line.StartsWith("verified_insns:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("verified_insns:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>The kernel's id of a loaded program, from /proc/self/fdinfo/FD (prog_id:).</summary>
    public static int ProgramId(int fd)
    {
        foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
        {
            if (line.StartsWith("prog_id:", StringComparison.Ordinal))
            {
                return int.Parse(line["prog_id:".Length..].Trim());
            }
        }

        throw new InvalidOperationException($"fd {fd} is not a BPF program");
    }

    /// <summary>Whether the kernel still has program <paramref name="id"/> (bpftool prog show id), null without bpftool.</summary>
    public static bool? KernelHasProgram(int id)
    {
        var bpftool = Requirements.FindCommand("bpftool");
        if (bpftool is null)
        {
            return null;
        }

        return Requirements.Run(bpftool, $"prog show id {id}").ExitCode == 0;
    }

    /// <summary>This thread's kernel tid, from /proc/thread-self (a link to PID/task/TID).</summary>
    /// <summary>Mappings of BPF maps in this process (an mmapped BPF_F_MMAPABLE map holds the map alive without an fd).</summary>
    public static int BpfMapMappings() => File.ReadLines("/proc/self/maps").Count(l => l.Contains("bpf-map", StringComparison.Ordinal));

    public static int CurrentTid() => int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!));
}
