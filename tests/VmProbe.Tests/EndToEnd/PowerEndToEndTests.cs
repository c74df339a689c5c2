using System.Diagnostics;
using System.Globalization;
using VmProbe.Tests.Infrastructure;
using VmProbe.Tests.Power;
using Xunit;
using Xunit.Abstractions;

namespace VmProbe.Tests.EndToEnd;

/// <summary>
/// Issue 16 end to end: the real runner and <c>vmprobe top</c>, with <c>VMPROBE_SYSFS</c> naming the Intel-like
/// fixture (whose package and DRAM counters climb at rising power while the test runs) and a real spinning QEMU/TCG
/// domain under libvirtd: the textfile has host and domain energy and passes promtool, the per-VM CSV and the log lines
/// have watts.
/// </summary>
[Collection(LibvirtdCollection.Name)]
public sealed class PowerEndToEndTests : IDisposable
{
    private readonly LibvirtdHost _host;
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("vmprobe-e2e-power-").FullName;

    public PowerEndToEndTests(LibvirtdHost host, ITestOutputHelper output) => (_host, _output) = (host, output);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void TheRunnerWritesHostAndDomainEnergyPromtoolCleanAndTheCsvHasWatts()
    {
        SkipUnlessReady();
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        using var fixture = PowerFixture.Intel();
        using var climbing = new ClimbingEnergy(fixture);
        using var spin = _host.StartDomain(LibvirtdHost.UniqueName("power-spin"), spinning: true);
        var endpoint = Path.Combine(_dir, "vmprobe.prom");
        var csvDir = Path.Combine(_dir, "csv");
        var csv = Path.Combine(csvDir, spin.Name + ".csv");
        using var runner = Start(fixture, "--config", Config(endpoint), "--csvdir", csvDir);

        // Until the domain has energy and its CSV a watts value (a few cycles: the first only reads the counters).
        string text = string.Empty;
        var deadline = Environment.TickCount64 + 90_000;
        while (Environment.TickCount64 < deadline && !(DomainEnergy(text, spin.Name) > 0 && WattsValues(csv).Any(w => w > 0)))
        {
            Thread.Sleep(250);
            text = File.Exists(endpoint) ? File.ReadAllText(endpoint) : string.Empty;
        }

        Stop(runner);
        _output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.Contains("energy", StringComparison.Ordinal) || l.Contains("power", StringComparison.Ordinal))));
        var series = ExpositionText.Parse(text);
        Assert.True(ExpositionText.ValueOf(series, "vmprobe_host_energy_joules_total", ("zone", "package-0"), ("source", "powercap")) > 0, "no host package energy");
        Assert.NotNull(ExpositionText.ValueOf(series, "vmprobe_host_energy_joules_total", ("zone", "dram-0"), ("source", "powercap")));
        Assert.True(DomainEnergy(text, spin.Name) > 0, "the spinning domain got no package energy");
        var idle = ExpositionText.ValueOf(series, "vmprobe_host_energy_model_info", ("model", ExpectedModel), ("zone", "package-0"), ("source", "powercap"), ("idle", "unknown"))
            ?? ExpositionText.ValueOf(series, "vmprobe_host_energy_model_info", ("model", ExpectedModel), ("zone", "package-0"), ("source", "powercap"), ("idle", "fitted"));
        Assert.Equal(1, idle);
        Assert.Equal(231.5, ExpositionText.ValueOf(series, "vmprobe_host_power_watts", ("sensor", "power_meter/power1")));
        var (lint, lintOutput) = Promtool.Check(text);
        Assert.True(lint == 0, $"promtool check metrics: exit {lint}: {lintOutput}");

        var rows = File.ReadAllLines(csv);
        Assert.Contains("watts", rows[0].Split(','));
        Assert.Contains(WattsValues(csv), w => w > 0);
    }

    [SkippableFact]
    public void TopLogCsvShowsTheSpinningDomainsWatts()
    {
        SkipUnlessReady();
        using var fixture = PowerFixture.Intel();
        using var climbing = new ClimbingEnergy(fixture);
        var token = Guid.NewGuid().ToString("N")[..8];
        using var spin = _host.StartDomain($"{LibvirtdHost.NamePrefix}{token}-power", spinning: true);
        using var top = Start(fixture, "top", "--config", Config(Path.Combine(_dir, "unused.prom")), "--log", "--csv", "-g", token);
        var lines = new List<string>();
        var deadline = Environment.TickCount64 + 90_000;
        int? column = null;
        double? watts = null;
        while (watts is not > 0 && Environment.TickCount64 < deadline && top.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(line);
            var fields = line.Split(',');
            if (column is null)
            {
                column = Array.IndexOf(fields, "watts");
                Assert.True(column > 1, "no watts column in the header: " + line);
            }
            else if (fields[1] == spin.Name && fields[column.Value].Length > 0)
            {
                watts = double.Parse(fields[column.Value], CultureInfo.InvariantCulture);
            }
        }

        Stop(top);
        _output.WriteLine(string.Join('\n', lines));
        Assert.True(watts > 0, "no line gave the spinning domain watts");
    }

    /// <summary>cpu_time here (no hardware PMU); where one counts cycles the runner would need a cycles event configured.</summary>
    private const string ExpectedModel = "cpu_time";

    private void SkipUnlessReady()
    {
        Skip.IfNot(_host.Available, _host.SkipReason);
        Skip.IfNot(Requirements.IsRoot, "the runner reads the QEMU threads of libvirt's domains: needs root");
    }

    private string Config(string endpoint)
    {
        var path = Path.Combine(_dir, "power.yaml");
        File.WriteAllText(path, $"url: {LibvirtdHost.Uri}\ndiscovery: libvirt\ndelay: 500\nendpoint: {endpoint}\n");
        return path;
    }

    private static Process Start(PowerFixture fixture, params string[] arguments)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : Requirements.FindCommand("dotnet") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(RepoPaths.VmprobeDll);
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        psi.Environment["VMPROBE_SYSFS"] = fixture.Root;
        var process = Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            Requirements.Run("/bin/kill", $"-TERM {process.Id}");
            if (!process.WaitForExit(15_000))
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    private static double? DomainEnergy(string text, string domain) =>
        ExpositionText.Parse(text).Where(s => s.Name == "vmprobe_domain_energy_joules_total" && s.Labels["domain"] == domain && s.Labels["zone"] == "package-0")
            .Select(s => (double?)s.Value).SingleOrDefault();

    /// <summary>The watts cells of a per-VM CSV that have a value (none while the file or the column is missing).</summary>
    private static List<double> WattsValues(string csv)
    {
        var rows = File.Exists(csv) ? File.ReadAllLines(csv) : Array.Empty<string>();
        var column = rows.Length > 0 ? Array.IndexOf(rows[0].Split(','), "watts") : -1;
        return column < 0
            ? new List<double>()
            : rows.Skip(1).Select(r => r.Split(',')).Where(f => f.Length > column && f[column].Length > 0)
                .Select(f => double.Parse(f[column], CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>Makes the fixture's package and DRAM counters climb at rising power (so each interval is above the idle estimate), writing whole files.</summary>
    private sealed class ClimbingEnergy : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _task;

        public ClimbingEnergy(PowerFixture fixture) => _task = Task.Run(() => Climb(fixture, _stop.Token));

        public void Dispose()
        {
            _stop.Cancel();
            _task.Wait();
            _stop.Dispose();
        }

        private static void Climb(PowerFixture fixture, CancellationToken stop)
        {
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                var t = clock.Elapsed.TotalSeconds;
                var joules = 20 * t + 5 * t * t; // 20 W rising by 10 W a second
                Write(fixture, "class/powercap/intel-rapl:0/energy_uj", 1_000_000 + (ulong)(joules * 1e6));
                Write(fixture, "class/powercap/intel-rapl:0:2/energy_uj", 200_000 + (ulong)(joules * 1e5));
                stop.WaitHandle.WaitOne(20);
            }
        }

        private static void Write(PowerFixture fixture, string relative, ulong microjoules)
        {
            var path = Path.Combine(fixture.Root, relative);
            File.WriteAllText(path + ".tmp", microjoules.ToString(CultureInfo.InvariantCulture) + "\n");
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }
}
