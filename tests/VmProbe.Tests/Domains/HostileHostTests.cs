using VmProbe.Composition;
using VmProbe.Config;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Domains;

/// <summary>
/// Issue "Hostile hosts": a real libvirtd that hangs (SIGSTOP), destroyed persistent domains, hostile names, a local
/// user impersonating a VM. Each runs the whole probe (ProbeComposition, ProbeLoop, textfile sink) in-process.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public class HostileHostTests
{
    private readonly LibvirtdHost _host;

    public HostileHostTests(LibvirtdHost host) => _host = host;

    [SkippableFact]
    public void HungLibvirtd_FileKeepsBeingWrittenEveryCycle_TimeoutsCounted_LibvirtSeriesReturnAfterSigcont()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "SIGSTOP on libvirtd needs root");
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("hung"));
        var uuid = domain.Uuid.ToString();
        var libvirtdPid = int.Parse(File.ReadAllText("/run/libvirtd.pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);

        var dir = Directory.CreateTempSubdirectory("vmprobe-hung-").FullName;
        using var stop = new CancellationTokenSource();
        Task? running = null;
        var stopped = false;
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            // The host had delay 500; 2000 here (a 1 s deadline) so that a shared, loaded libvirtd still answers.
            var config = new ProbeConfig { Url = LibvirtdHost.Uri, Endpoint = endpoint, DelayMs = 2000 };
            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            using var composition = ProbeComposition.Create(config, log);
            var loop = new ProbeLoop(composition.CreateCycle(), composition.Sink, log, config.DelayMs);
            running = Task.Run(() => loop.RunAsync(stop.Token));

            List<ExposedSeries> Read()
            {
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        return ExpositionText.Parse(File.ReadAllText(endpoint));
                    }
                    catch (FileNotFoundException) when (attempt < 100)
                    {
                        Thread.Sleep(50);
                    }
                }
            }

            double? Info(List<ExposedSeries> s) => ExpositionText.ValueOf(s, "vmprobe_domain_info", ("domain", domain.Name), ("uuid", uuid), ("state", "running"));
            double Stamp(List<ExposedSeries> s) => ExpositionText.ValueOf(s, "vmprobe_probe_last_cycle_timestamp_seconds") ?? 0;
            double Errors(List<ExposedSeries> s) => ExpositionText.ValueOf(s, "vmprobe_probe_errors_total", ("source", "libvirt")) ?? 0;

            Assert.True(SpinWait.SpinUntil(() => Info(Read()) == 1, TimeSpan.FromSeconds(60)), "the domain never appeared with libvirt's series");
            var before = Read();
            var errorsBefore = Errors(before);
            var timedOutBefore = composition.LibvirtSession!.TimedOutCalls;

            Assert.Equal(0, Requirements.Run("kill", $"-STOP {libvirtdPid}").ExitCode);
            stopped = true;
            var stamps = new SortedSet<double>();
            var started = System.Diagnostics.Stopwatch.StartNew();
            List<ExposedSeries> during = before;
            while (started.Elapsed < TimeSpan.FromSeconds(9))
            {
                Thread.Sleep(100);
                during = Read();
                stamps.Add(Stamp(during));
            }

            // One cycle every 2 s: 4 or 5 in 9 s; a cycle stuck on libvirt (30 s timeouts) would give at most one.
            Assert.True(stamps.Count >= 4, $"only {stamps.Count} cycles were written in 9 s while libvirtd was stopped");
            Assert.True(Errors(during) >= errorsBefore + 3, $"libvirt errors went from {errorsBefore} to {Errors(during)}");
            Assert.Null(Info(during)); // the libvirt part is omitted, not frozen
            Assert.NotNull(ExpositionText.ValueOf(during, "vmprobe_domain_threads", ("domain", domain.Name), ("uuid", uuid)));
            Assert.NotNull(ExpositionText.ValueOf(during, "vmprobe_host_load1"));
            // Each of the 4+ cycles needed libvirt, yet at most one call (two if one was in flight at SIGSTOP) went into the hung daemon.
            var issued = composition.LibvirtSession.TimedOutCalls - timedOutBefore;
            Assert.True(issued <= 2, $"{issued} libvirt calls were issued into the hung daemon in {stamps.Count} cycles");
            Assert.True(LibvirtWorkerThreads() <= 1, $"{LibvirtWorkerThreads()} libvirt worker threads");

            Assert.Equal(0, Requirements.Run("kill", $"-CONT {libvirtdPid}").ExitCode);
            stopped = false;
            Assert.True(SpinWait.SpinUntil(() => Info(Read()) == 1, TimeSpan.FromSeconds(60)), "libvirt's series did not come back after SIGCONT");
            Assert.True(LibvirtWorkerThreads() <= 1);
            var warnings = log.Lines.Where(l => l.StartsWith("Warning: libvirt ", StringComparison.Ordinal)).ToList();
            // One for the hang; a daemon still slow right after SIGCONT (a loaded host) may miss one more deadline. Never one per cycle.
            Assert.True(warnings.Count is 1 or 2 && warnings.Count < stamps.Count, "one warning for the whole hang, got: " + string.Join(" | ", warnings));
        }
        finally
        {
            if (stopped)
            {
                Requirements.Run("kill", $"-CONT {libvirtdPid}");
            }

            stop.Cancel();
            running?.Wait(TimeSpan.FromSeconds(30));
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void DestroyedDefinedDomain_KeepsOnlyDomainInfoShutoff_ProbeDomainsAgreesWithDomainsSeries()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("stopped"), persistent: true);
        var uuid = domain.Uuid.ToString();
        var dir = Directory.CreateTempSubdirectory("vmprobe-stopped-").FullName;
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            var config = new ProbeConfig { Url = LibvirtdHost.Uri, Endpoint = endpoint, DelayMs = 20_000 };
            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            using var composition = ProbeComposition.Create(config, log);
            var loop = new ProbeLoop(composition.CreateCycle(), composition.Sink, log, config.DelayMs);

            List<ExposedSeries> Cycle()
            {
                loop.RunOnceAsync(default).GetAwaiter().GetResult();
                return ExpositionText.Parse(File.ReadAllText(endpoint));
            }

            List<ExposedSeries> Ours(List<ExposedSeries> s) =>
                s.Where(x => x.Labels.TryGetValue("uuid", out var u) && u == uuid).ToList();

            var running = Cycle();
            Assert.Equal(1, ExpositionText.ValueOf(running, "vmprobe_domain_info", ("domain", domain.Name), ("uuid", uuid), ("state", "running")));
            Assert.Contains(Ours(running), x => x.Name == "vmprobe_domain_cpu_seconds_total");

            Assert.Equal(0, _host.RunVirsh("destroy", domain.Name).ExitCode);
            Assert.True(SpinWait.SpinUntil(() => _host.RunVirsh("domstate", domain.Name).Stdout.Contains("shut off", StringComparison.Ordinal), TimeSpan.FromSeconds(30)));

            // Other domains on this libvirtd may come and go between the listing and the bulk stats: a few tries.
            for (var attempt = 0; ; attempt++)
            {
                var stopped = Cycle();
                var ours = Ours(stopped);
                var info = Assert.Single(ours);
                Assert.Equal("vmprobe_domain_info", info.Name);
                Assert.Equal("shutoff", info.Labels["state"]);
                Assert.Equal(1, info.Value);

                var probeDomains = ExpositionText.ValueOf(stopped, "vmprobe_probe_domains");
                var all = stopped.Where(x => x.Name == "vmprobe_domains").Sum(x => x.Value);
                var shutoff = ExpositionText.ValueOf(stopped, "vmprobe_domains", ("state", "shutoff"));
                Assert.True(shutoff >= 1);
                if (probeDomains == all - shutoff || attempt == 3)
                {
                    Assert.Equal(all - shutoff, probeDomains);
                    break;
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void ProcessDiscovery_UnprivilegedImpersonatorsOfARealDomainAreRefused_ConflictLoggedOnceAndCounted()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "running a process as nobody needs root");
        var setpriv = Requirements.FindCommand("setpriv");
        var qemu = Requirements.FindCommand("qemu-system-x86_64");
        Skip.If(setpriv is null || qemu is null, "setpriv or qemu-system-x86_64 missing");
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("victim"));
        var uuid = domain.Uuid;
        var realPid = domain.Pid;
        Assert.True(realPid > 0);

        // Impersonator 1: the real QEMU binary, run by nobody. Impersonator 2: a shell copied to a nobody-owned
        // directory under the name qemu-system-x86_64, run by nobody with the same -name and -uuid.
        var dir = Directory.CreateTempSubdirectory("vmprobe-imp-").FullName;
        var impostors = new List<System.Diagnostics.Process>();
        try
        {
            File.Copy("/bin/sh", Path.Combine(dir, "qemu-system-x86_64"));
            Assert.Equal(0, Requirements.Run("chown", $"-R nobody:nogroup {dir}").ExitCode);
            Assert.Equal(0, Requirements.Run("chmod", $"755 {dir}").ExitCode);
            impostors.Add(StartAsNobody(setpriv!, qemu!, "-name", $"guest={domain.Name},debug-threads=on", "-uuid", uuid.ToString(),
                "-machine", "none", "-nodefaults", "-display", "none", "-S"));
            impostors.Add(StartAsNobody(setpriv!, Path.Combine(dir, "qemu-system-x86_64"), "-c", "sleep 60; :", "-name", $"guest={domain.Name}", "-uuid", uuid.ToString()));
            Thread.Sleep(1000);
            Assert.All(impostors, p => Assert.False(p.HasExited, "an impersonator exited: " + (p.HasExited ? p.StandardError.ReadToEnd() : string.Empty)));

            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            using var discovery = new VmProbe.Procfs.ProcessDomainDiscovery();
            for (var cycle = 0; cycle < 3; cycle++)
            {
                var claims = discovery.Discover(log, default).Where(d => d.Name == domain.Name || d.Uuid == uuid).ToList();
                var kept = Assert.Single(claims);
                Assert.Equal(realPid, kept.Pid);
            }

            Assert.Equal(2, discovery.Conflicts);
            var lines = log.Lines.Where(l => l.Contains(domain.Name, StringComparison.Ordinal)).ToList();
            Assert.Equal(2, lines.Count);
            Assert.All(lines, l => Assert.StartsWith("Warning: process discovery:", l));
            Assert.All(impostors, p => Assert.Contains(lines, l => l.Contains($"pid {p.Id} claims", StringComparison.Ordinal)));

            // The whole probe in process mode exports the real one and the counter.
            var endpoint = Path.Combine(dir, "out", "vmprobe.prom");
            Directory.CreateDirectory(Path.GetDirectoryName(endpoint)!);
            var config = new ProbeConfig { Endpoint = endpoint, DelayMs = 1000, Discovery = DomainDiscovery.Process };
            using var composition = ProbeComposition.Create(config, log);
            var loop = new ProbeLoop(composition.CreateCycle(), composition.Sink, log, config.DelayMs);
            loop.RunOnceAsync(default).GetAwaiter().GetResult();
            var file = ExpositionText.Parse(File.ReadAllText(endpoint));
            Assert.Equal(2, ExpositionText.ValueOf(file, "vmprobe_probe_discovery_conflicts_total"));
            Assert.Single(file, s => s.Name == "vmprobe_domain_threads" && s.Labels["domain"] == domain.Name);
        }
        finally
        {
            foreach (var p in impostors)
            {
                try
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
                catch (InvalidOperationException)
                {
                }

                p.Dispose();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static System.Diagnostics.Process StartAsNobody(string setpriv, string program, params string[] arguments)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(setpriv) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", program }.Concat(arguments))
        {
            psi.ArgumentList.Add(a);
        }

        return System.Diagnostics.Process.Start(psi)!;
    }

    [SkippableFact]
    public void DomainNamesWithEveryAcceptedCharacter_KeepProcfsAndPerfSeries()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "perf on QEMU threads and libvirt's run directory need root");
        using var quoted = _host.StartDomain(LibvirtdHost.UniqueName("q\"uo'te&amp<x>{b}\\s"));
        using var unicode = _host.StartDomain(LibvirtdHost.UniqueName("ünï €日本 " + new string('L', 200)));
        var domains = new[] { quoted, unicode };
        Assert.All(domains, d => Assert.True(d.Pid > 0, $"no pid file for {d.Name}"));

        var dir = Directory.CreateTempSubdirectory("vmprobe-names-").FullName;
        try
        {
            var endpoint = Path.Combine(dir, "vmprobe.prom");
            var events = new[] { VmProbe.Perf.PerfEventCatalog.Parse("task-clock") };
            var config = new ProbeConfig { Url = LibvirtdHost.Uri, Endpoint = endpoint, DelayMs = 20_000, Events = events };
            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            using var composition = ProbeComposition.Create(config, log);
            var cycle = composition.CreateCycle();
            cycle.Prepare(CancellationToken.None);
            Thread.Sleep(500);
            composition.Sink.Export(cycle.Collect(CancellationToken.None));
            var file = ExpositionText.Parse(File.ReadAllText(endpoint));
            foreach (var d in domains)
            {
                var uuid = d.Uuid.ToString();
                Assert.Equal(1, ExpositionText.ValueOf(file, "vmprobe_domain_info", ("domain", d.Name), ("uuid", uuid), ("state", "running")));
                Assert.NotNull(ExpositionText.ValueOf(file, "vmprobe_domain_threads", ("domain", d.Name), ("uuid", uuid)));
                Assert.NotNull(ExpositionText.ValueOf(file, "vmprobe_domain_perf_events_total", ("domain", d.Name), ("uuid", uuid), ("event", "task_clock")));
            }

            Assert.DoesNotContain(log.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && domains.Any(d => l.Contains(d.Name, StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void RunningDomainWhosePidCannotBeFound_IsOneWarning_NotADebugLineEachCycle()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        using var domain = _host.StartDomain(LibvirtdHost.UniqueName("nopid"));
        var emptyRunDirectory = Directory.CreateTempSubdirectory("vmprobe-run-").FullName;
        try
        {
            using var session = new VmProbe.Libvirt.LibvirtSession(LibvirtdHost.Uri, TimeSpan.FromSeconds(30), NullProbeLog.Instance);
            using var discovery = new VmProbe.Libvirt.LibvirtDomainDiscovery(session, pidDirectory: emptyRunDirectory);
            var log = new VmProbe.Tests.Procfs.DomainProcfsSourceTests.ListLog();
            for (var cycle = 0; cycle < 3; cycle++)
            {
                var listed = Assert.Single(discovery.Discover(log, default), d => d.Name == domain.Name);
                Assert.Equal(0, listed.Pid);
            }

            var line = Assert.Single(log.Lines, l => l.Contains($"'{domain.Name}'", StringComparison.Ordinal));
            Assert.StartsWith("Warning:", line);
        }
        finally
        {
            Directory.Delete(emptyRunDirectory, recursive: true);
        }
    }

    internal static int LibvirtWorkerThreads() =>
        Directory.EnumerateDirectories("/proc/self/task").Count(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).Trim() == "vmprobe-libvirt";
            }
            catch (IOException)
            {
                return false;
            }
        });
}
