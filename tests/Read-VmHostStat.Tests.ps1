#Requires -Modules Pester
# Pester tests of Read-VmHostStat. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Read-VmHostStat' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmHostStat' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Read-VmHostStat'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'reads host samples' {
        $samples = @(Read-VmHostStat)
        $samples.Count | Should -BeGreaterThan 0
        $samples | ForEach-Object { $_.Scope | Should -Be ([VmProbe.VmSampleScope]::Host) }
    }
}
