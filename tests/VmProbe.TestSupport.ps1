# Shared setup of tests/*.Tests.ps1, dot-sourced in their BeforeAll (and BeforeDiscovery when a file's -Skip:
# arguments need $isRoot or $libvirtPresent). Not named *.Tests.ps1, so Invoke-Pester never runs it as a test file.
# Dot-sourcing it only defines names and throws nothing: a missing build fails the BeforeAll that calls
# Resolve-VmProbeManifest, with the reason, instead of failing Discovery.

# $PSScriptRoot is this file's folder (tests/) whichever test file dot-sources it.
$repoRoot = Split-Path -Path $PSScriptRoot -Parent

# Host facts for -Skip: arguments, which Pester evaluates at Discovery.
$isRoot = $IsLinux -and ((id -u) -eq '0')
$libvirtPresent = $IsLinux -and ((Test-Path '/usr/lib/x86_64-linux-gnu/libvirt.so.0') -or (Test-Path '/usr/lib64/libvirt.so.0') -or (Test-Path '/usr/lib/libvirt.so.0'))

function Resolve-VmProbeManifest {
    <#
    .SYNOPSIS
    The path of the VmProbe.psd1 under test: $env:VMPROBE_MODULE_PATH when set, else the newest
    output/VmProbe/<version>/VmProbe.psd1 that build.ps1 -Task Package or scripts/publish-module.sh wrote.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($env:VMPROBE_MODULE_PATH) {
        if (-not (Test-Path -LiteralPath $env:VMPROBE_MODULE_PATH -PathType Leaf)) {
            throw "VMPROBE_MODULE_PATH is '$env:VMPROBE_MODULE_PATH', which is not a file: set it to a built VmProbe.psd1 (output/VmProbe/<version>/VmProbe.psd1) or unset it."
        }

        return $env:VMPROBE_MODULE_PATH
    }

    # Never the repository root's VmProbe.psd1: its NestedModules entry bin/VmProbe.dll exists only in a built module folder.
    $published = Join-Path -Path (Split-Path -Path $PSScriptRoot -Parent) -ChildPath 'output/VmProbe'
    $newest = Get-ChildItem -LiteralPath $published -Directory -ErrorAction Ignore |
        Where-Object { ($null -ne ($_.Name -as [version])) -and (Test-Path -LiteralPath (Join-Path $_.FullName 'VmProbe.psd1') -PathType Leaf) } |
        Sort-Object -Property { [version] $_.Name } -Descending |
        Select-Object -First 1
    if (-not $newest) {
        throw "No built VmProbe module in $($published)/<version>/: run './build.ps1 -Task Package' (or scripts/publish-module.sh) first, or set VMPROBE_MODULE_PATH to a built VmProbe.psd1."
    }

    Join-Path -Path $newest.FullName -ChildPath 'VmProbe.psd1'
}

function Get-VmProbeTestPwsh {
    <#
    .SYNOPSIS
    The path of a pwsh executable of the running PowerShell, to start a child pwsh. Not (Get-Process -Id $PID).Path:
    that is dotnet when pwsh is a .NET global tool. $PSHOME holds pwsh however it was installed (package, tarball,
    tool); the pwsh on PATH is the fallback.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $inHome = Join-Path -Path $PSHOME -ChildPath $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
    if (Test-Path -LiteralPath $inHome -PathType Leaf) {
        return $inHome
    }

    $onPath = Get-Command -Name pwsh -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($onPath) {
        return $onPath.Source
    }

    throw "No pwsh executable in `$PSHOME ($PSHOME) nor on PATH: cannot start a child pwsh."
}

# fds of this process: every perf fd, libvirt connection and kept procfs file a probe or session holds shows here.
function Get-OpenFdCount {
    <#
    .SYNOPSIS
    Open fds of this process, without the ones .NET holds on assembly images it loaded (an assembly first used by
    PowerShell or Pester mid-test is not a handle the module leaked).
    #>
    @([System.IO.Directory]::GetFileSystemEntries('/proc/self/fd') | Where-Object {
        # The listing's own fd is gone by now: FileInfo gives no target for it rather than failing.
        $target = try { ([System.IO.FileInfo]::new($_)).LinkTarget } catch { $null }
        -not ($target -and $target.EndsWith('.dll', [System.StringComparison]::Ordinal))
    }).Count
}

function New-ProbeConfig {
    <#
    .SYNOPSIS
    A config file in $TestDrive (test:///default, the given delay and software events) and its endpoint's path.
    #>
    param([string] $Name, [int] $Delay = 1000, [string[]] $Events = @('task-clock'))

    $endpoint = Join-Path $TestDrive "$Name/vmprobe.prom"
    $config = Join-Path $TestDrive "$Name.yaml"
    Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: test:///default`ndelay: $Delay`nperfsoftware: [$($Events -join ', ')]"
    [pscustomobject]@{ Config = $config; Endpoint = $endpoint }
}

function Wait-Until([scriptblock] $Condition, [int] $TimeoutSeconds = 30) {
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([datetime]::UtcNow -gt $deadline) { throw "timed out after $TimeoutSeconds s waiting for: $Condition" }
        Start-Sleep -Milliseconds 100
    }
}

function New-SpinningTestDomain {
    <#
    .SYNOPSIS
    Starts a transient TCG domain at qemu:///system whose vCPU spins (boot sector 'jmp $'), as the xunit tests'
    LibvirtdHost starts them. Returns the virsh command (for the cleanup) and why it could not, if it could not.
    #>
    param([string] $Name, [string] $Image, [string] $XmlPath)

    $virsh = Get-Command -Name virsh -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if (-not $virsh) {
        return [pscustomobject]@{ Virsh = $null; SkipReason = 'virsh is not installed (libvirt-clients)' }
    }

    if ((& $virsh.Source -c qemu:///system version 2>&1 | Out-String) -notmatch 'Running hypervisor') {
        return [pscustomobject]@{ Virsh = $virsh; SkipReason = 'libvirtd does not answer at qemu:///system' }
    }

    $sector = [byte[]]::new(512)
    $sector[0] = 0xEB
    $sector[1] = 0xFE
    $sector[510] = 0x55
    $sector[511] = 0xAA
    [System.IO.File]::WriteAllBytes($Image, $sector)
    Set-Content -LiteralPath $XmlPath -Value @"
<domain type='qemu'>
  <name>$Name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='fd'/></os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <devices>
    <disk type='file' device='floppy'><source file='$Image'/><target dev='fda' bus='fdc'/><readonly/></disk>
    <memballoon model='virtio'/>
  </devices>
</domain>
"@
    $created = & $virsh.Source -c qemu:///system create $XmlPath 2>&1 | Out-String
    $reason = if ($LASTEXITCODE -ne 0) { "virsh create failed: $created" } else { $null }
    [pscustomobject]@{ Virsh = $virsh; SkipReason = $reason }
}
