using System.Globalization;
using VmProbe.Native;
using VmProbe.Perf;

namespace VmProbe.Config;

/// <summary>
/// What <c>vmprobe --check</c> verifies on this host beyond the file's syntax, so that it fails on everything a run would
/// refuse or skip for a reason known before running: every tracepoint exists in tracefs (a misspelled name gets the
/// closest names as a did-you-mean; a numeric id must be some tracepoint's id), and the endpoint can be written (it is
/// not a directory, no component of its directory is a regular file, and its directory exists and takes a new file, or
/// can be created). Each problem is a <see cref="ConfigError"/> with the line and key it came from. Running out of file
/// descriptors while checking (EMFILE, ENFILE) is the process's failure, not the config's: it is thrown, never listed.
/// </summary>
public static class ConfigHostCheck
{
    /// <summary>Checks <paramref name="loaded"/> against this host; an empty list when a run could honour it.</summary>
    /// <param name="tracefsRoot">The tracefs to resolve tracepoints in; null for the mounted one (mounted as a run would).</param>
    /// <exception cref="VmProbeException">No file descriptor was left to check with (EMFILE, ENFILE); ErrorId <c>config_check,EMFILE</c>.</exception>
    public static IReadOnlyList<ConfigError> Check(ConfigLoadResult loaded, string? tracefsRoot = null)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var config = loaded.Config;
        var file = config.SourcePath ?? "(config)";
        var errors = new List<ConfigError>();
        try
        {
            CheckTracepoints(loaded, file, tracefsRoot, errors);
            if (CheckEndpoint(config.Endpoint) is { } problem)
            {
                errors.Add(new ConfigError(file, loaded.KeyLines.TryGetValue("endpoint", out var line) ? line : null, "endpoint", problem));
            }
        }
        catch (IOException ex) when (IsOutOfFds(ex))
        {
            throw OutOfFds(file, ex);
        }

        return errors;
    }

    /// <summary>What the power source would read here (<c>power:</c> line): meters by source and zone, sensors, the powermeter's reading, the model.</summary>
    public static string DescribePower(ProbeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Power.PowerCheck.Describe(config, config.Events.Any(e => e.Kind == PerfEventKind.Hardware && e.Config == 0));
    }

    /// <summary>
    /// Which way VM exits would be counted here (<c>kvmexits</c>), and why: the tracers are tried as a run's first cycle
    /// tries them (eBPF, else perf-filter, which opens one filtered kvm:kvm_exit counter on this thread) and closed again.
    /// </summary>
    public static string DescribeKvmExits(ProbeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var choice = Kvm.Exits.KvmExitTracers.Choose(config, NullProbeLog.Instance);
        choice.Tracer?.Dispose();
        return choice.Why;
    }

    /// <summary>
    /// What KVM's own statistics (<c>kvmstats</c>) would come from here: the mode and allowlist, then each source as a run
    /// finds it: stats fds (root, pidfd_open/pidfd_getfd in the C library, QEMU 8.1+ per domain), libvirt's VM group (asked
    /// for or not), debugfs (usable, or its one cause; mounted as a run would mount it).
    /// </summary>
    /// <param name="debugfs">The debugfs to look at; null for the one a run uses.</param>
    public static string DescribeKvmStats(ProbeConfig config, string? debugfs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var mode = config.KvmStats.ToString().ToLowerInvariant();
        if (config.KvmStats == KvmStatsMode.Off)
        {
            return "off (kvmstats: off): no KVM statistics are read";
        }

        var allow = config.KvmStatsAllow.Count == 0 ? "all statistics" : "allow " + string.Join(",", config.KvmStatsAllow);
        var fds = Interop.Libc.GetEUid() != 0 ? "stats fds: not as non-root (pidfd_getfd needs root)"
            : PidFdWorks() ? "stats fds: root with pidfd_getfd (each QEMU 8.1+ domain whose fds are open)"
            : "stats fds: this C library has no pidfd_open/pidfd_getfd (glibc 2.36+)";
        var libvirt = config.Discovery is DomainDiscovery.Auto or DomainDiscovery.Libvirt // as SourceRegistry.UsesLibvirt (config may not import composition)
            ? "libvirt VM group: asked for (libvirt 8.9+, QEMU 7.1+, KVM domains)"
            : "libvirt VM group: not asked (discovery does not use libvirt)";
        var kvmDebugfs = new Kvm.KvmDebugfs(debugfs);
        var cause = kvmDebugfs.Check();
        var debug = cause is null ? $"debugfs: {kvmDebugfs.KvmDirectory}" + (kvmDebugfs.MountedHere ? " (mounted now)" : string.Empty) : $"debugfs: none ({cause})";
        return $"{mode}, {allow}; {fds}; {libvirt}; {debug}";
    }

    private static bool PidFdWorks()
    {
        try
        {
            Kvm.KvmStatsFd.OpenPid(Environment.ProcessId).Dispose();
            return true;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or Kvm.KvmStatsException)
        {
            return false;
        }
    }

    /// <summary>Null when a textfile can be written at <paramref name="endpoint"/>; otherwise why not.</summary>
    /// <exception cref="IOException">No file descriptor was left for the trial file (EMFILE, ENFILE): says nothing about the endpoint.</exception>
    public static string? CheckEndpoint(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var path = Path.GetFullPath(endpoint);
        if (Directory.Exists(path))
        {
            return $"'{endpoint}' is a directory; the endpoint must be a file name ending in .prom";
        }

        var directory = Path.GetDirectoryName(path) ?? "/";
        var existing = directory;
        while (!Directory.Exists(existing) && !File.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            existing = parent;
        }

        if (File.Exists(existing))
        {
            return $"'{existing}' is a file, not a directory: the endpoint's directory {(existing == directory ? "is not a directory" : $"'{directory}' cannot be created")}";
        }

        // Only a real attempt says whether a file can be created (modes, ACLs, read-only mounts, immutable directories).
        var probe = Path.Combine(existing, $".vmprobe-check.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when ((ex is IOException && !IsOutOfFds(ex)) || ex is UnauthorizedAccessException)
        {
            var reason = ex is UnauthorizedAccessException ? "permission denied" : ex.Message;
            return existing == directory
                ? $"cannot create files in '{directory}': {reason}"
                : $"cannot create the directory '{directory}' in '{existing}': {reason}";
        }

        return null;
    }

    private static void CheckTracepoints(ConfigLoadResult loaded, string file, string? tracefsRoot, List<ConfigError> errors)
    {
        var events = loaded.Config.Events;
        string? root = tracefsRoot;
        Dictionary<ulong, string>? byId = null;
        List<string>? names = null;
        for (var i = 0; i < events.Count; i++)
        {
            var spec = events[i];
            if (spec.Kind != PerfEventKind.Tracepoint)
            {
                continue;
            }

            int? line = i < loaded.EventLines.Count ? loaded.EventLines[i] : null;
            var key = i < loaded.EventKeys.Count ? loaded.EventKeys[i] : "perftracepoint";
            if (root is null)
            {
                try
                {
                    root = TracepointResolver.EnsureTracefs();
                }
                catch (TracepointException ex)
                {
                    errors.Add(new ConfigError(file, line, key, ex.Message));
                    return;
                }
            }

            if (spec.TracepointName is { } name)
            {
                try
                {
                    TracepointResolver.Resolve(name, root);
                }
                catch (TracepointException)
                {
                    names ??= ListTracepoints(root);
                    var close = Closest(name, names);
                    errors.Add(new ConfigError(file, line, key, close.Count == 0
                        ? $"unknown tracepoint '{name}' (no such directory under {Path.Combine(root, "events")})"
                        : $"unknown tracepoint '{name}'; did you mean {string.Join(", ", close)}?"));
                }
            }
            else
            {
                byId ??= ListTracepointIds(root);
                if (!byId.ContainsKey(spec.Config))
                {
                    errors.Add(new ConfigError(file, line, key,
                        string.Create(CultureInfo.InvariantCulture, $"no tracepoint has id {spec.Config} (the ids are in {Path.Combine(root, "events")}/*/*/id)")));
                }
            }
        }
    }

    private static List<string> ListTracepoints(string root)
    {
        var names = new List<string>();
        try
        {
            foreach (var subsystem in Directory.EnumerateDirectories(Path.Combine(root, "events")))
            {
                foreach (var tracepoint in Directory.EnumerateDirectories(subsystem))
                {
                    names.Add(Path.GetFileName(subsystem) + ":" + Path.GetFileName(tracepoint));
                }
            }
        }
        catch (Exception ex) when ((ex is IOException && !IsOutOfFds(ex)) || ex is UnauthorizedAccessException)
        {
        }

        return names;
    }

    private static Dictionary<ulong, string> ListTracepointIds(string root)
    {
        var ids = new Dictionary<ulong, string>();
        foreach (var name in ListTracepoints(root))
        {
            var colon = name.IndexOf(':');
            try
            {
                var text = File.ReadAllText(Path.Combine(root, "events", name[..colon], name[(colon + 1)..], "id"));
                if (ulong.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    ids.TryAdd(id, name);
                }
            }
            catch (Exception ex) when ((ex is IOException && !IsOutOfFds(ex)) || ex is UnauthorizedAccessException)
            {
            }
        }

        return ids;
    }

    private static bool IsOutOfFds(Exception error) => error is IOException { HResult: Errno.EMFILE or Errno.ENFILE };

    private static VmProbeException OutOfFds(string file, IOException error)
    {
        var name = Errno.Name(error.HResult);
        var limit = FdLimits.TryGetNoFileLimit(out var soft, out _) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"RLIMIT_NOFILE is {soft}")
            : "RLIMIT_NOFILE is unknown";
        var scope = error.HResult == Errno.EMFILE ? "this process has" : "the system has";
        return new VmProbeException(
            $"cannot check config file '{file}' on this host: too many open files ({name}): {scope} no file descriptor left ({limit}); raise the limit (ulimit -n, LimitNOFILE=)",
            "config_check," + name, ProbeErrorKind.ResourceUnavailable, error);
    }

    /// <summary>Up to three names within a small edit distance of <paramref name="name"/>, closest first.</summary>
    internal static IReadOnlyList<string> Closest(string name, IEnumerable<string> candidates)
    {
        var limit = Math.Max(2, name.Length / 5);
        return candidates
            .Select(c => (Name: c, Distance: PerfEventCatalog.EditDistance(name, c)))
            .Where(c => c.Distance <= limit)
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Take(3)
            .Select(c => c.Name)
            .ToList();
    }
}
