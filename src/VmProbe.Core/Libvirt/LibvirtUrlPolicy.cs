namespace VmProbe.Libvirt;

/// <summary>
/// Which libvirt URIs the probe may open. The probe runs as root and reads perf counters and /proc of this host, so only a
/// local, read-only connection makes sense: a remote host's VMs cannot be measured from here, and some transports run
/// programs (<c>qemu+ext:///system?command=/path</c> executes <c>/path</c> on the first connect). By default only a local
/// driver's <c>driver:///path</c> or <c>driver+unix:///path</c> form without a host part and without query parameters
/// (except <c>mode</c>) is allowed; <c>allowremoteurl: true</c> (or the cmdlets' equivalent) lifts everything but the
/// control-character check. The one check both the config loader and the cmdlets' <c>-Uri</c> use.
/// </summary>
internal static class LibvirtUrlPolicy
{
    /// <summary>libvirt drivers that run on this host and are reached without a network or an external program.</summary>
    public static IReadOnlyList<string> LocalDrivers { get; } = new[]
    {
        "qemu", "test", "lxc", "libxl", "xen", "ch", "bhyve", "vbox", "vz", "openvz", "parallels", "vmwareplayer", "vmwarews", "vmwarefusion",
    };

    /// <summary>Query parameters a local URI may carry (mode=auto|legacy|direct picks the daemon, nothing else).</summary>
    public static IReadOnlyList<string> AllowedParameters { get; } = new[] { "mode" };

    /// <summary>Null when <paramref name="url"/> may be opened; otherwise why not (one sentence, without the URL's key).</summary>
    public static string? Check(string url, bool allowRemote)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Length == 0)
        {
            return "the libvirt URI is empty";
        }

        foreach (var ch in url)
        {
            if (char.IsControl(ch) || char.IsWhiteSpace(ch))
            {
                return $"the libvirt URI contains a {(char.IsControl(ch) ? "control" : "white-space")} character (U+{(int)ch:X4})";
            }
        }

        if (allowRemote)
        {
            return null;
        }

        const string Hint = "; only local URIs such as qemu:///system are allowed (set allowremoteurl: true to allow it)";
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            return $"'{url}' is not a URI (libvirt would look it up as an alias in libvirt.conf, which may name a remote host){Hint}";
        }

        var scheme = url[..separator].ToLowerInvariant();
        var plus = scheme.IndexOf('+');
        var driver = plus < 0 ? scheme : scheme[..plus];
        var transport = plus < 0 ? null : scheme[(plus + 1)..];
        if (transport is not null && transport != "unix")
        {
            var what = transport switch
            {
                "ext" => "runs an external program",
                "ssh" or "libssh" or "libssh2" => "connects to another host over SSH",
                "tcp" or "tls" => "connects over the network",
                _ => "is not a local transport",
            };
            return $"transport '+{transport}' {what}{Hint}";
        }

        if (!LocalDrivers.Contains(driver))
        {
            return $"'{driver}' is not a local libvirt driver ({string.Join(", ", LocalDrivers)}){Hint}";
        }

        var rest = url[(separator + 3)..];
        var pathStart = rest.IndexOfAny(new[] { '/', '?', '#' });
        var authority = pathStart < 0 ? rest : rest[..pathStart];
        if (authority.Length > 0)
        {
            return $"the URI names a host ('{authority}'): perf counters and /proc of a remote host cannot be read from here{Hint}";
        }

        rest = pathStart < 0 ? string.Empty : rest[pathStart..];
        if (rest.Contains('#'))
        {
            return $"the URI has a fragment{Hint}";
        }

        var query = rest.IndexOf('?');
        var path = query < 0 ? rest : rest[..query];
        if (!path.StartsWith('/'))
        {
            return $"the URI has no path (expected {driver}:///system or the like){Hint}";
        }

        if (driver == "qemu" && path is not ("/system" or "/session"))
        {
            return $"qemu URIs must be qemu:///system or qemu:///session, got path '{path}' (qemu:///embed runs QEMU inside the probe){Hint}";
        }

        if (query >= 0)
        {
            foreach (var parameter in rest[(query + 1)..].Split('&', ';'))
            {
                if (parameter.Length == 0)
                {
                    continue;
                }

                var eq = parameter.IndexOf('=');
                var name = (eq < 0 ? parameter : parameter[..eq]).ToLowerInvariant();
                if (!AllowedParameters.Contains(name))
                {
                    return $"query parameter '{name}' is not allowed (parameters such as command=, socket= or netcat= run programs or redirect the connection){Hint}";
                }
            }
        }

        return null;
    }

    /// <summary>Throws when <paramref name="url"/> may not be opened (<see cref="Check"/>); for the cmdlets' <c>-Uri</c>.</summary>
    /// <exception cref="VmProbeException">InvalidArgument, error id <c>libvirt_uri,refused</c>.</exception>
    public static void Ensure(string url, bool allowRemote)
    {
        if (Check(url, allowRemote) is { } reason)
        {
            throw new VmProbeException($"libvirt URI '{url}' refused: {reason}", "libvirt_uri,refused", ProbeErrorKind.InvalidArgument)
            {
                RecommendedAction = "Use a local URI such as qemu:///system; allow remote URIs explicitly if you really mean it.",
            };
        }
    }
}
