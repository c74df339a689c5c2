#Requires -Modules Pester
# Pester tests of Get-VmProbeConfig. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    $repoRoot = Split-Path -Path $PSScriptRoot -Parent
    $modulePath = if ($env:VMPROBE_MODULE_PATH) { $env:VMPROBE_MODULE_PATH } else { Join-Path $repoRoot 'VmProbe.psd1' }
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    $isRoot = $IsLinux -and ((id -u) -eq '0')
    $libvirtPresent = $IsLinux -and ((Test-Path '/usr/lib/x86_64-linux-gnu/libvirt.so.0') -or (Test-Path '/usr/lib64/libvirt.so.0') -or (Test-Path '/usr/lib/libvirt.so.0'))
}

Describe 'Get-VmProbeConfig' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Get-VmProbeConfig' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Get-VmProbeConfig'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'reads a YAML config' {
        $path = Join-Path $TestDrive 'config.yaml'
        Set-Content -LiteralPath $path -Value "prefix: testprobe`ndelay_ms: 1000`nendpoint: $TestDrive/out.prom"
        $config = Get-VmProbeConfig -Path $path
        $config | Should -BeOfType ([VmProbe.Config.ProbeConfig])
        $config.Prefix | Should -Be 'testprobe'
        $config.DelayMs | Should -Be 1000
    }

    It 'stops on a missing file' {
        { Get-VmProbeConfig -Path (Join-Path $TestDrive 'missing.yaml') -ErrorAction Stop } | Should -Throw
    }
}
