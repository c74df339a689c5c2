using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Kvm;

/// <summary>
/// Whether KVM's debugfs can serve, and when not, the one actual cause: debugfs not mounted (mounted here as root at the
/// default mount point only, never where <c>VMPROBE_DEBUGFS</c> points), no <c>kvm</c> directory (no KVM module), or
/// kernel lockdown, under which debugfs refuses every file that can be written (KVM's cumulative and peak statistics:
/// what is left is not worth a source). Lockdown is found by trying one such file, named by the lockdown file.
/// </summary>
internal static class KvmDebugfsCheck
{
    public const string LockdownFile = "/sys/kernel/security/lockdown";

    /// <summary>Null when <paramref name="mountPoint"/>/kvm is readable, else why not; <paramref name="mounted"/> tells a mount made here.</summary>
    /// <param name="mayMount">Mount debugfs at <paramref name="mountPoint"/> when it is not mounted (root only).</param>
    /// <param name="refused">Whether opening a file for reading is refused (tests stand in for lockdown with it).</param>
    public static string? Check(string mountPoint, bool mayMount, out bool mounted, string mountsFile = "/proc/self/mounts",
        string lockdownFile = LockdownFile, Func<string, bool>? refused = null)
    {
        mounted = false;
        var kvm = Path.Combine(mountPoint, "kvm");
        if (!Directory.Exists(kvm) && !IsDebugfsMounted(mountPoint, mountsFile))
        {
            if (!mayMount)
            {
                return $"{kvm} does not exist and {mountPoint} is not a debugfs mount ({KvmDebugfs.EnvironmentVariable} names it; "
                    + $"VmProbe mounts debugfs only at {KvmDebugfs.DefaultMountPoint})";
            }

            if (Interop.Libc.GetEUid() != 0)
            {
                return $"debugfs is not mounted at {mountPoint} and mounting it needs root";
            }

            if (!Directory.Exists(mountPoint))
            {
                return $"{mountPoint} does not exist (a kernel without CONFIG_DEBUG_FS?)";
            }

            if (Interop.Libc.Mount("nodev", mountPoint, "debugfs", 0, IntPtr.Zero) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                var lockdown = Lockdown(lockdownFile);
                return string.Create(CultureInfo.InvariantCulture, $"debugfs is not mounted at {mountPoint} and mount -t debugfs nodev {mountPoint} failed: ")
                    + $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno.ToString(CultureInfo.InvariantCulture)})"
                    + (lockdown is null ? string.Empty : $"; kernel lockdown is {lockdown}");
            }

            mounted = true;
        }

        if (!Directory.Exists(kvm))
        {
            return $"debugfs at {mountPoint}{(mounted ? " (mounted now)" : string.Empty)} has no kvm directory: no KVM module is loaded (kvm_intel/kvm_amd), this is not a KVM host";
        }

        var writable = FirstWritableFile(kvm);
        if (writable is not null && (refused ?? IsRefused)(writable))
        {
            var lockdown = Lockdown(lockdownFile);
            return lockdown is not null
                ? $"kernel lockdown ({lockdown}, {lockdownFile}): debugfs refuses its writable files, KVM's cumulative and peak statistics ({writable})"
                : $"opening {writable} is refused (kernel lockdown, most likely: {lockdownFile} is not readable, securityfs not mounted?)";
        }

        return null;
    }

    /// <summary>The lockdown mode in force (<c>integrity</c>, <c>confidentiality</c>) from the lockdown file, or null (none or unknown).</summary>
    internal static string? Lockdown(string lockdownFile)
    {
        string text;
        try
        {
            text = File.ReadAllText(lockdownFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var open = text.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : text.IndexOf(']', open);
        var mode = close > open + 1 ? text[(open + 1)..close] : null;
        return mode is "integrity" or "confidentiality" ? mode : null;
    }

    internal static bool IsDebugfsMounted(string mountPoint, string mountsFile)
    {
        try
        {
            var full = Path.GetFullPath(mountPoint).TrimEnd('/');
            foreach (var line in File.ReadLines(mountsFile))
            {
                var fields = line.Split(' ');
                if (fields.Length > 2 && fields[2] == "debugfs" && fields[1].Replace("\\040", " ", StringComparison.Ordinal) == full)
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return false;
    }

    /// <summary>Whether opening <paramref name="file"/> for reading fails with EPERM/EACCES (what lockdown does to debugfs).</summary>
    internal static bool IsRefused(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? FirstWritableFile(string directory)
    {
        try
        {
#pragma warning disable CA1416 // the engine runs on Linux only
            return Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal)
                .FirstOrDefault(f => (File.GetUnixFileMode(f) & UnixFileMode.UserWrite) != 0);
#pragma warning restore CA1416
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
