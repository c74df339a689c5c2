using System.Globalization;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Perf;

/// <summary>
/// Resolves <c>subsystem:name</c> tracepoints to the id perf_event_open wants as config, from
/// <c>&lt;tracefs&gt;/events/&lt;subsystem&gt;/&lt;name&gt;/id</c>. Mounts tracefs at /sys/kernel/tracing when running as root
/// and no tracefs is mounted (hosts without systemd often lack it).
/// </summary>
internal static class TracepointResolver
{
    public const string TracingPath = "/sys/kernel/tracing";
    public const string DebugTracingPath = "/sys/kernel/debug/tracing";

    private static readonly object MountLock = new();
    private static string? cachedTracefs;

    /// <summary>The tracefs id of <paramref name="subsystemColonName"/> (e.g. <c>sched:sched_switch</c>), mounting tracefs if needed.</summary>
    /// <exception cref="TracepointException">NotFound when the tracepoint does not exist; NotSupported when tracefs cannot be had.</exception>
    public static ulong Resolve(string subsystemColonName) => Resolve(subsystemColonName, GetTracefs(subsystemColonName));

    /// <summary>The tracefs id of <paramref name="subsystemColonName"/> under the tracefs mounted at <paramref name="tracefsRoot"/>.</summary>
    public static ulong Resolve(string subsystemColonName, string tracefsRoot)
    {
        ArgumentNullException.ThrowIfNull(subsystemColonName);
        var colon = subsystemColonName.IndexOf(':');
        if (colon <= 0 || colon == subsystemColonName.Length - 1
            || subsystemColonName.AsSpan(colon + 1).Contains(':')
            || subsystemColonName.Contains('/') || subsystemColonName.Contains(".."))
        {
            throw new TracepointException(subsystemColonName, $"invalid tracepoint '{subsystemColonName}': expected subsystem:name (e.g. sched:sched_switch)", "tracepoint,invalid", ProbeErrorKind.InvalidArgument);
        }

        var subsystem = subsystemColonName[..colon];
        var name = subsystemColonName[(colon + 1)..];
        var idFile = Path.Combine(tracefsRoot, "events", subsystem, name, "id");
        string text;
        try
        {
            text = File.ReadAllText(idFile);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            var hint = Directory.Exists(Path.Combine(tracefsRoot, "events", subsystem))
                ? $"subsystem '{subsystem}' has no tracepoint '{name}'"
                : $"there is no tracepoint subsystem '{subsystem}' (is its kernel module loaded?)";
            throw new TracepointException(subsystemColonName, $"tracepoint '{subsystemColonName}' not found: {hint} ({idFile})", "tracepoint,ENOENT", ProbeErrorKind.NotFound, ex)
            {
                RecommendedAction = $"List the tracepoints with 'perf list tracepoint' or ls {Path.Combine(tracefsRoot, "events")}.",
            };
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new TracepointException(subsystemColonName, $"cannot read {idFile} for tracepoint '{subsystemColonName}': permission denied", "tracepoint,EACCES", ProbeErrorKind.PermissionDenied, ex);
        }

        if (!ulong.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw new TracepointException(subsystemColonName, $"unexpected content '{text.Trim()}' in {idFile}", "tracepoint,invalid_id", ProbeErrorKind.InvalidData);
        }

        return id;
    }

    /// <summary>The mounted tracefs directory (events/ present), or null; does not mount anything.</summary>
    public static string? FindTracefs()
    {
        foreach (var candidate in new[] { TracingPath, DebugTracingPath })
        {
            if (Directory.Exists(Path.Combine(candidate, "events")))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Tracepoints whose <c>subsystem:name</c> starts with <paramref name="prefix"/> (case-insensitive), at most
    /// <paramref name="max"/>, from the mounted tracefs only; none when tracefs is not mounted. For tab completion.
    /// </summary>
    public static IReadOnlyList<string> List(string prefix, int max, string? tracefsRoot = null)
    {
        var root = tracefsRoot ?? FindTracefs();
        var colon = prefix.IndexOf(':', StringComparison.Ordinal);
        if (root is null || colon <= 0)
        {
            return Array.Empty<string>();
        }

        var subsystem = Path.Combine(root, "events", prefix[..colon]);
        if (prefix.IndexOfAny(new[] { '/', '\0' }) >= 0 || !Directory.Exists(subsystem))
        {
            return Array.Empty<string>();
        }

        return Directory.EnumerateDirectories(subsystem)
            .Select(dir => prefix[..colon] + ":" + Path.GetFileName(dir))
            .Where(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Take(max)
            .ToList();
    }

    /// <summary>The tracefs directory, mounting tracefs at /sys/kernel/tracing when none is mounted and we may.</summary>
    /// <exception cref="TracepointException">NotSupported when tracefs is not mounted and cannot be mounted.</exception>
    public static string EnsureTracefs() => GetTracefs(null);

    private static string GetTracefs(string? forTracepoint)
    {
        var cached = cachedTracefs;
        if (cached is not null && Directory.Exists(Path.Combine(cached, "events")))
        {
            return cached;
        }

        lock (MountLock)
        {
            var found = FindTracefs();
            if (found is null)
            {
                string reason;
                if (Interop.Libc.GetEUid() != 0)
                {
                    reason = "it is not mounted and mounting it needs root";
                }
                else if (!Directory.Exists(TracingPath))
                {
                    reason = $"{TracingPath} does not exist (kernel without CONFIG_TRACING?)";
                }
                else if (Interop.Libc.Mount("nodev", TracingPath, "tracefs", 0, IntPtr.Zero) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    reason = $"mount -t tracefs nodev {TracingPath} failed: {Marshal.GetPInvokeErrorMessage(errno)}";
                }
                else
                {
                    reason = $"tracefs mounted at {TracingPath} has no events directory";
                    found = FindTracefs();
                }

                if (found is null)
                {
                    var what = forTracepoint is null ? "tracepoints" : $"tracepoint '{forTracepoint}'";
                    throw new TracepointException(forTracepoint ?? string.Empty, $"cannot resolve {what}: tracefs is not available ({reason})", "tracefs,unavailable", ProbeErrorKind.NotSupported)
                    {
                        RecommendedAction = $"Run as root, or mount it: mount -t tracefs nodev {TracingPath}",
                    };
                }
            }

            cachedTracefs = found;
            return found;
        }
    }
}
