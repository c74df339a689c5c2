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
    /// Creates and starts a transient TCG domain (qemu64, 128 MiB, no disk unless spinning). With <paramref name="spinning"/>
    /// it boots a 512-byte floppy whose boot sector is <c>jmp $</c>, so vCPU 0 runs at 100%.
    /// </summary>
    public LibvirtdTestDomain StartDomain(string name, bool spinning = false, int vcpus = 1)
    {
        if (!Available)
        {
            throw new InvalidOperationException("libvirtd is not available: " + SkipReason);
        }

        if (!name.StartsWith(NamePrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Test domain names must start with '{NamePrefix}' (got '{name}').", nameof(name));
        }

        string? image = null;
        if (spinning)
        {
            image = Path.Combine(ImageDirectory, $"{NamePrefix}spin-{Guid.NewGuid():N}.img");
            var sector = new byte[512];
            sector[0] = 0xEB; // jmp $ (EB FE): the boot sector loops forever on vCPU 0
            sector[1] = 0xFE;
            sector[510] = 0x55;
            sector[511] = 0xAA;
            File.WriteAllBytes(image, sector);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        var xmlPath = Path.Combine(Path.GetTempPath(), $"{NamePrefix}{Guid.NewGuid():N}.xml");
        File.WriteAllText(xmlPath, DomainXml(name, image, vcpus));
        try
        {
            var result = RunVirsh("create", xmlPath);
            if (result.ExitCode != 0)
            {
                if (image is not null)
                {
                    File.Delete(image);
                }

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
        // Transient: destroy also undefines it. "not found" means it is already gone.
        RunVirsh("destroy", domain.Name);
        if (domain.ImagePath is not null)
        {
            File.Delete(domain.ImagePath);
        }

        lock (_domains)
        {
            _domains.Remove(domain);
        }
    }

    private static string DomainXml(string name, string? floppyImage, int vcpus)
    {
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

    /// <summary>The QEMU pid from /run/libvirt/qemu/NAME.pid, or 0.</summary>
    public int Pid
    {
        get
        {
            try
            {
                return int.TryParse(File.ReadAllText($"/run/libvirt/qemu/{Name}.pid").Trim(), out var pid) ? pid : 0;
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

/// <summary>Test classes that need the real daemon join this collection and take <see cref="LibvirtdHost"/> in their constructor.</summary>
[CollectionDefinition(Name)]
public sealed class LibvirtdCollection : ICollectionFixture<LibvirtdHost>
{
    public const string Name = "libvirtd";
}
