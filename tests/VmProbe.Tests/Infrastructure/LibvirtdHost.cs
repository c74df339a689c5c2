using System.Diagnostics;
using System.Security;
using Xunit;

namespace VmProbe.Tests.Infrastructure;

/// <summary>
/// A real libvirtd for integration tests (shared by the libvirt, domains and perf areas): makes sure virtlogd and
/// libvirtd run (starting them by hand — no systemd here), then defines and starts transient QEMU/TCG domains
/// named <c>vmprobe-test-...</c> and destroys every one of them on Dispose. When libvirtd cannot be reached,
/// <see cref="Available"/> is false and <see cref="SkipReason"/> says why: tests call <c>Skip.IfNot(host.Available, host.SkipReason)</c>.
/// libvirtd itself is left running (starting it again costs ~5 s; other test classes reuse it).
/// </summary>
public sealed class LibvirtdHost : IDisposable
{
    public const string Uri = "qemu:///system";

    /// <summary>Every domain a test creates starts with this, so a leftover is recognisable and never clashes with a real VM.</summary>
    public const string NamePrefix = "vmprobe-test-";

    public const string ImageDirectory = "/var/lib/libvirt/images";

    private const string StartLockPath = "/tmp/vmprobe-libvirtd-start.lock";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly List<LibvirtdTestDomain> _domains = new();
    private readonly string? _virsh;

    public LibvirtdHost()
    {
        _virsh = Requirements.FindCommand("virsh");
        SkipReason = FindSkipReason() ?? string.Empty;
    }

    public bool Available => SkipReason.Length == 0;

    public string SkipReason { get; }

    public string Virsh => _virsh ?? throw new InvalidOperationException("virsh is not installed");

    /// <summary>A unique name with the test prefix; <paramref name="label"/> may contain spaces, dots and dashes.</summary>
    public static string UniqueName(string label) => $"{NamePrefix}{Guid.NewGuid().ToString("N")[..8]}-{label}";

    /// <summary>
    /// Creates and starts a transient TCG domain (qemu64, 128 MiB) that boots a 512-byte floppy. With <paramref name="spinning"/>
    /// the boot sector is <c>jmp $</c>, so vCPU 0 runs at 100%; otherwise it is <c>cli; hlt</c>, so the vCPU halts for good
    /// once the BIOS is done (no iPXE polling), and the call returns only when the domain has gone quiet.
    /// </summary>
    /// <param name="persistent">Define the domain (virsh define + start) instead of creating a transient one: it stays
    /// defined (shut off) after <c>virsh destroy</c>; Dispose undefines it.</param>
    /// <param name="nic">Give the domain a NIC on a tap device libvirt creates and removes (<c>type='ethernet'</c>, no
    /// bridge or dnsmasq needed), so that libvirt reports net.N.* statistics for it (a <c>type='user'</c> NIC has none).</param>
    /// <param name="mac">With <paramref name="nic"/>: the NIC's MAC (else libvirt picks one).</param>
    /// <param name="bridge">With <paramref name="nic"/>: put the NIC's tap on this existing host bridge (<c>type='bridge'</c>).</param>
    public LibvirtdTestDomain StartDomain(string name, bool spinning = false, int vcpus = 1, bool persistent = false, bool nic = false, string? mac = null, string? bridge = null)
    {
        if (!Available)
        {
            throw new InvalidOperationException("libvirtd is not available: " + SkipReason);
        }

        if (!name.StartsWith(NamePrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Test domain names must start with '{NamePrefix}' (got '{name}').", nameof(name));
        }

        var image = Path.Combine(ImageDirectory, $"{NamePrefix}{(spinning ? "spin" : "halt")}-{Guid.NewGuid():N}.img");
        {
            var sector = new byte[512];
            byte[] code = spinning
                ? new byte[] { 0xEB, 0xFE } // jmp $: the boot sector loops forever on vCPU 0
                : new byte[] { 0xFA, 0xF4, 0xEB, 0xFC }; // cli; hlt; jmp back: halted with interrupts off, for good
            code.CopyTo(sector, 0);
            sector[510] = 0x55;
            sector[511] = 0xAA;
            File.WriteAllBytes(image, sector);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        var xmlPath = Path.Combine(Path.GetTempPath(), $"{NamePrefix}{Guid.NewGuid():N}.xml");
        File.WriteAllText(xmlPath, DomainXml(name, image, vcpus, nic, mac, bridge));
        try
        {
            var result = persistent ? RunVirsh("define", xmlPath) : RunVirsh("create", xmlPath);
            if (persistent && result.ExitCode == 0)
            {
                result = RunVirsh("start", name);
                if (result.ExitCode != 0)
                {
                    RunVirsh("undefine", name);
                }
            }

            if (result.ExitCode != 0)
            {
                File.Delete(image);

                throw new InvalidOperationException($"virsh create {name} failed ({result.ExitCode}): {result.Stderr.Trim()}");
            }
        }
        finally
        {
            File.Delete(xmlPath);
        }

        var domain = new LibvirtdTestDomain(this, name, image);
        lock (_domains)
        {
            _domains.Add(domain);
        }

        if (!spinning)
        {
            WaitUntilQuiet(domain);
        }

        return domain;
    }

    /// <summary>Runs virsh against <see cref="Uri"/> with arguments passed verbatim (names with spaces need no quoting).</summary>
    public (int ExitCode, string Stdout, string Stderr) RunVirsh(params string[] arguments)
    {
        var psi = new ProcessStartInfo(Virsh)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Uri);
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start virsh");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"virsh {string.Join(' ', arguments)} did not finish in 60 s");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        LibvirtdTestDomain[] leftovers;
        lock (_domains)
        {
            leftovers = _domains.ToArray();
            _domains.Clear();
        }

        foreach (var domain in leftovers)
        {
            domain.Dispose();
        }
    }

    internal void Destroy(LibvirtdTestDomain domain)
    {
        // Transient: destroy also undefines it. "not found" means it is already gone. Under load libvirt may answer
        // before QEMU has exited (state "in shutdown"): wait until the domain is gone, so the next test sees no trace of it.
        // A persistent (defined) domain is undefined first: a running one becomes transient, a shut-off one goes.
        RunVirsh("undefine", domain.Name);
        var deadline = Environment.TickCount64 + 30_000;
        do
        {
            RunVirsh("destroy", domain.Name);
            if (RunVirsh("domstate", domain.Name).ExitCode != 0)
            {
                break;
            }

            Thread.Sleep(200);
        }
        while (Environment.TickCount64 < deadline);
        if (domain.ImagePath is not null)
        {
            File.Delete(domain.ImagePath);
        }

        lock (_domains)
        {
            _domains.Remove(domain);
        }
    }

    /// <summary>
    /// Waits (at most 20 s) until the QEMU process's CPU time grows by less than 5 ms in 250 ms: the BIOS has booted the
    /// halting sector. Tests that compare an idle domain with a spinning one then measure the halted guest, not its boot.
    /// </summary>
    private static void WaitUntilQuiet(LibvirtdTestDomain domain)
    {
        static double CpuSeconds(int pid)
        {
            // utime + stime of the whole process, fields 14 and 15 of /proc/PID/stat (after the ")" of comm).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (double.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
        }

        var pid = domain.Pid;
        var deadline = Environment.TickCount64 + 20_000;
        var before = CpuSeconds(pid);
        while (Environment.TickCount64 < deadline)
        {
            Thread.Sleep(250);
            var now = CpuSeconds(pid);
            if (now - before < 0.005)
            {
                return;
            }

            before = now;
        }

        throw new InvalidOperationException($"domain {domain.Name} (pid {pid}) still uses CPU 20 s after start: its halting boot sector did not run");
    }

    private static string DomainXml(string name, string? floppyImage, int vcpus, bool nic, string? mac, string? bridge = null)
    {
        // Tap names are at most 15 bytes: a random one per domain, so parallel test runs never clash.
        var macXml = mac is null ? string.Empty : $"<mac address='{SecurityElement.Escape(mac)}'/>";
        var tapName = $"vmpt{Guid.NewGuid().ToString("N")[..8]}";
        var tap = !nic ? string.Empty
            : bridge is null ? $"<interface type='ethernet'>{macXml}<target dev='{tapName}' managed='yes'/><model type='e1000'/></interface>"
            : $"<interface type='bridge'>{macXml}<source bridge='{SecurityElement.Escape(bridge)}'/><target dev='{tapName}'/><model type='e1000'/></interface>";
        var disk = floppyImage is null
            ? string.Empty
            : $"""
                  <disk type='file' device='floppy'>
                    <source file='{SecurityElement.Escape(floppyImage)}'/>
                    <target dev='fda' bus='fdc'/>
                    <readonly/>
                  </disk>
              """;
        var boot = floppyImage is null ? string.Empty : "<boot dev='fd'/>";
        return $"""
            <domain type='qemu'>
              <name>{SecurityElement.Escape(name)}</name>
              <memory unit='MiB'>128</memory>
              <vcpu>{vcpus}</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type>{boot}</os>
              <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>destroy</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            {disk}
                {tap}
                <memballoon model='virtio'/>
              </devices>
            </domain>
            """;
    }

    private string? FindSkipReason()
    {
        if (!Requirements.IsRoot)
        {
            return "needs root to start libvirtd and QEMU domains";
        }

        if (_virsh is null)
        {
            return "virsh not found (install libvirt-clients)";
        }

        var libvirtd = Requirements.FindCommand("libvirtd");
        var virtlogd = Requirements.FindCommand("virtlogd");
        if (libvirtd is null || virtlogd is null)
        {
            return "libvirtd/virtlogd not found (install libvirt-daemon-system libvirt-daemon-driver-qemu)";
        }

        if (Requirements.FindCommand("qemu-system-x86_64") is null)
        {
            return "qemu-system-x86_64 not found (install qemu-system-x86)";
        }

        if (Answers())
        {
            return null;
        }

        // Several test processes (other areas) may get here at once: one starts the daemons, the others wait.
        using (AcquireStartLock())
        {
            if (Answers())
            {
                return null;
            }

            // A second instance exits at once on the pid-file lock, so starting unconditionally is harmless.
            Requirements.Run(virtlogd, "-d", timeoutMs: 15_000);
            Requirements.Run(libvirtd, "-d", timeoutMs: 15_000);
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < StartTimeout)
            {
                if (Answers())
                {
                    return null;
                }

                Thread.Sleep(500);
            }
        }

        return $"libvirtd did not answer 'virsh -c {Uri} version' within {StartTimeout.TotalSeconds:0} s after starting it";
    }

    private bool Answers()
    {
        try
        {
            return RunVirsh("version").ExitCode == 0;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static FileStream AcquireStartLock()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(StartLockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < StartTimeout * 2)
            {
                Thread.Sleep(250);
            }
        }
    }
}

/// <summary>A transient domain started by <see cref="LibvirtdHost"/>; destroyed (and its floppy image deleted) on Dispose.</summary>
public sealed class LibvirtdTestDomain : IDisposable
{
    private readonly LibvirtdHost _host;
    private int _disposed;

    internal LibvirtdTestDomain(LibvirtdHost host, string name, string? imagePath)
    {
        _host = host;
        Name = name;
        ImagePath = imagePath;
    }

    public string Name { get; }

    public string? ImagePath { get; }

    /// <summary>The QEMU pid from libvirt's pid file in /run/libvirt/qemu, or 0.</summary>
    public int Pid
    {
        get
        {
            try
            {
                // libvirt names the pid file after the XML-escaped name (a"b gives a&quot;b.pid).
                var path = $"/run/libvirt/qemu/{VmProbe.Libvirt.LibvirtDomainLister.EscapeLikeLibvirt(Name)}.pid";
                return int.TryParse(File.ReadAllText(path).Trim(), out var pid) ? pid : 0;
            }
            catch (IOException)
            {
                return 0;
            }
        }
    }

    public Guid Uuid
    {
        get
        {
            var result = _host.RunVirsh("domuuid", Name);
            return result.ExitCode == 0 ? Guid.Parse(result.Stdout.Trim()) : Guid.Empty;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _host.Destroy(this);
        }
    }
}

/// <summary>
/// Test classes that need the real daemon join this collection and take <see cref="LibvirtdHost"/> in their constructor.
/// It does not run in parallel with other tests: they compare CPU time of domains and count process fds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LibvirtdCollection : ICollectionFixture<LibvirtdHost>
{
    public const string Name = "libvirtd";
}
