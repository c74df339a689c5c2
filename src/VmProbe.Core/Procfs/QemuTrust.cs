using System.Globalization;
using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>
/// Whether a process that looks like QEMU was started by the host's virtualization stack, so that process discovery
/// may take its <c>-name</c>/<c>-uuid</c> for a VM's identity (any local user can run a binary called
/// <c>qemu-system-x86_64</c> with any name and uuid). The rule, all of it required:
/// <list type="number">
/// <item>the process runs as root or as the QEMU user of libvirt (<c>libvirt-qemu</c>, or <c>qemu</c> on Red Hat hosts);</item>
/// <item>/proc/PID/exe resolves to a regular file named like QEMU, owned by root and writable by nobody but root
/// (nor is its directory);</item>
/// <item>when libvirt has a pid file for the claimed name in <c>/run/libvirt/qemu</c>, it names this process.</item>
/// </list>
/// </summary>
internal sealed class QemuTrust
{
    private readonly string _pidDirectory;
    private readonly HashSet<uint> _qemuUsers;

    public QemuTrust(string pidDirectory = "/run/libvirt/qemu", string passwdPath = "/etc/passwd")
    {
        _pidDirectory = pidDirectory;
        _qemuUsers = new HashSet<uint> { 0 };
        foreach (var user in ReadUserIds(passwdPath, "libvirt-qemu", "qemu"))
        {
            _qemuUsers.Add(user);
        }
    }

    /// <summary>Null when the process is trusted, else why not (for the log).</summary>
    public string? Check(string procDirectory, int pid, string? claimedName)
    {
        var procPath = $"{procDirectory}/{pid.ToString(CultureInfo.InvariantCulture)}";
        if (!TryStat(procPath, out var owner, out _))
        {
            return "its /proc entry cannot be read";
        }

        if (!_qemuUsers.Contains(owner))
        {
            return $"it runs as uid {owner}, not root or libvirt's QEMU user";
        }

        var exe = ProcFileReader.TryReadLink(procPath + "/exe");
        if (exe is null)
        {
            return "its executable cannot be resolved";
        }

        if (exe.EndsWith(" (deleted)", StringComparison.Ordinal))
        {
            return $"its executable {exe} was deleted";
        }

        if (!QemuCommandLine.IsQemuExecutable(exe))
        {
            return $"its executable {exe} is not QEMU";
        }

        if (UnsafeFile(exe) is { } fileProblem)
        {
            return fileProblem;
        }

        if (UnsafeFile(Path.GetDirectoryName(exe) ?? "/") is { } directoryProblem)
        {
            return directoryProblem;
        }

        if (claimedName is not null && LibvirtPid(claimedName) is { } libvirtPid && libvirtPid != pid)
        {
            return $"libvirt's pid file for '{claimedName}' names pid {libvirtPid}";
        }

        return null;
    }

    /// <summary>The pids that libvirt's pid files name (the QEMU processes libvirt started), read once per call.</summary>
    public HashSet<int> LibvirtPids()
    {
        var pids = new HashSet<int>();
        try
        {
            foreach (var file in Directory.EnumerateFiles(_pidDirectory, "*.pid"))
            {
                if (ReadPid(file) is { } pid)
                {
                    pids.Add(pid);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return pids;
    }

    private int? LibvirtPid(string name)
    {
        if (name.Contains('/') || name is "." or "..")
        {
            return null;
        }

        // libvirt names the file after the domain name, XML-escaped by some versions (a"b gives a&quot;b.pid).
        var escaped = System.Security.SecurityElement.Escape(name) ?? name;
        return ReadPid(Path.Combine(_pidDirectory, name + ".pid"))
            ?? (escaped == name ? null : ReadPid(Path.Combine(_pidDirectory, escaped + ".pid")));
    }

    private static int? ReadPid(string path)
    {
        // A QEMU libvirt did not start has no pid file: asked first, so that it costs a stat, not a thrown exception
        // (a host of QEMUs of its own has one per QEMU at the first discovery). Gone meanwhile: caught below.
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var text = File.ReadAllText(path);
            return int.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static string? UnsafeFile(string path)
    {
        if (!TryStat(path, out var owner, out var mode))
        {
            return $"{path} cannot be examined";
        }

        if (owner != 0)
        {
            return $"{path} is owned by uid {owner}, not root";
        }

        // Group- or world-writable (a sticky directory such as /tmp included): anyone could have put it there.
        if ((mode & 0x12) != 0)
        {
            return $"{path} is writable by users other than root (mode {Convert.ToString(mode & 0xFFF, 8)})";
        }

        return null;
    }

    private static IEnumerable<uint> ReadUserIds(string passwdPath, params string[] names)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(passwdPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var line in lines)
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && names.Contains(fields[0], StringComparer.Ordinal)
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            {
                yield return uid;
            }
        }
    }

    /// <summary>Owner uid and mode of <paramref name="path"/>, following symlinks (statx, through Native).</summary>
    private static bool TryStat(string path, out uint owner, out uint mode) =>
        FileStatus.TryGetOwnerAndMode(path, out owner, out mode);
}
