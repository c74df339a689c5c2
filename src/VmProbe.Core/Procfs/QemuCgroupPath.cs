using System.Globalization;
using System.Text;

namespace VmProbe.Procfs;

/// <summary>
/// Where libvirt puts a QEMU domain in the cgroup tree, and how to get the domain level and the machine name back:
/// systemd hosts use <c>/machine.slice/machine-qemu\x2d3\x2dweb\x2d01.scope[/libvirt]/{emulator,vcpuN,iothreadN}</c>,
/// hosts without systemd <c>/machine/qemu-2-db.libvirt-qemu/{emulator,vcpuN}</c>.
/// </summary>
internal static class QemuCgroupPath
{
    /// <summary>
    /// The domain-level cgroup of a QEMU process or thread path: drops the per-thread child (<c>emulator</c>,
    /// <c>vcpuN</c>, <c>iothreadN</c>) and libvirt's <c>libvirt</c> sub-directory of a systemd scope.
    /// The path keeps its on-disk spelling (systemd escapes stay escaped).
    /// </summary>
    public static string DomainLevel(string cgroupPath)
    {
        var parts = cgroupPath.Split('/');
        var end = parts.Length;

        // A systemd scope's inner "libvirt" directory and everything below it belong to the domain.
        for (var i = 1; i < parts.Length; i++)
        {
            if (parts[i] == "libvirt" && parts[i - 1].EndsWith(".scope", StringComparison.Ordinal))
            {
                end = i;
                break;
            }
        }

        while (end > 1 && IsThreadChild(parts[end - 1]))
        {
            end--;
        }

        var joined = string.Join('/', parts, 0, end);
        return joined.Length == 0 ? "/" : joined;
    }

    /// <summary>Decodes systemd unit-name escapes (<c>\x2d</c> is <c>-</c>, <c>\x20</c> a space; UTF-8 bytes recombined).</summary>
    public static string DecodeSystemdEscapes(string name)
    {
        if (!name.Contains("\\x", StringComparison.Ordinal))
        {
            return name;
        }

        // Work on UTF-8 bytes so that escaped multi-byte characters recombine.
        var source = Encoding.UTF8.GetBytes(name);
        var bytes = new List<byte>(source.Length);
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i] == (byte)'\\' && i + 3 < source.Length && source[i + 1] == (byte)'x'
                && IsHex(source[i + 2]) && IsHex(source[i + 3]))
            {
                bytes.Add((byte)((HexValue(source[i + 2]) << 4) | HexValue(source[i + 3])));
                i += 3;
            }
            else
            {
                bytes.Add(source[i]);
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// The libvirt machine name (<c>qemu-ID-NAME</c>) of a domain-level cgroup path, split into the domain id and
    /// name. libvirt drops characters other than letters, digits, '-', '_' and '.' from NAME and truncates it, so prefer
    /// the name from libvirt or the QEMU command line; this is for display and matching only.
    /// </summary>
    public static bool TryParseMachineName(string domainCgroupPath, out int domainId, out string name)
    {
        domainId = -1;
        name = string.Empty;
        var last = domainCgroupPath.TrimEnd('/');
        last = last[(last.LastIndexOf('/') + 1)..];
        last = DecodeSystemdEscapes(last);

        if (last.StartsWith("machine-", StringComparison.Ordinal) && last.EndsWith(".scope", StringComparison.Ordinal))
        {
            last = last["machine-".Length..^".scope".Length];
        }
        else
        {
            // Non-systemd: "qemu-2-db.libvirt-qemu" (".libvirt-" + driver name).
            var suffix = last.LastIndexOf(".libvirt-", StringComparison.Ordinal);
            if (suffix < 0)
            {
                return false;
            }

            last = last[..suffix];
        }

        // "qemu-ID-NAME"; the driver prefix is the part before the first dash.
        var firstDash = last.IndexOf('-');
        if (firstDash <= 0)
        {
            return false;
        }

        var secondDash = last.IndexOf('-', firstDash + 1);
        if (secondDash < 0 || secondDash == last.Length - 1
            || !int.TryParse(last.AsSpan(firstDash + 1, secondDash - firstDash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out domainId))
        {
            domainId = -1;
            return false;
        }

        name = last[(secondDash + 1)..];
        return true;
    }

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static bool IsThreadChild(string component)
    {
        if (component == "emulator")
        {
            return true;
        }

        return HasNumberAfter(component, "vcpu") || HasNumberAfter(component, "iothread");
    }

    private static bool HasNumberAfter(string component, string prefix) =>
        component.Length > prefix.Length && component.StartsWith(prefix, StringComparison.Ordinal)
        && component.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0;
}
