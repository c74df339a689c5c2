using System.Diagnostics;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// What the machine offers, for tests that need root, a command or a kernel feature. Such tests use
/// [SkippableFact] and <c>Skip.IfNot(Requirements.X, Requirements.Why...)</c> so a missing part is reported as skipped with a reason.
/// </summary>
public static class Requirements
{
    public static bool IsRoot => Environment.UserName == "root" || VmProbe.Native.Interop.Libc.GetEUid() == 0;

    /// <summary>The absolute path of an executable on PATH (or in /usr/sbin, /usr/bin, /sbin), or null.</summary>
    public static string? FindCommand(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" });
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs a command to completion and returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string fileName, string arguments, string? stdin = null, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {arguments} did not finish in {timeoutMs} ms");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Number of open file descriptors of this process.</summary>
    public static int OpenFdCount() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>
    /// Waits until an exited thread of this process is no longer listed in /proc/self/task: Thread.Join returns once the
    /// managed thread is done, and the kernel removes the task a moment later. False when it is still listed after the timeout.
    /// </summary>
    public static bool WaitUntilThreadGone(int tid, int timeoutMs = 5000) =>
        SpinWait.SpinUntil(() => !Directory.Exists($"/proc/self/task/{tid}"), timeoutMs);

    /// <summary>
    /// Open perf_event fds of this process (links to <c>anon_inode:[perf_event]</c>). Leak tests compare this rather than
    /// every fd: the test host's other threads, pipes and finalizers open and close unrelated fds at any time.
    /// </summary>
    public static int OpenPerfEventFdCount()
    {
        var count = 0;
        foreach (var fd in new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos())
        {
            try
            {
                if (fd.LinkTarget == "anon_inode:[perf_event]")
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // closed between listing and readlink: not ours to count
            }
        }

        return count;
    }
}
