#Requires -Modules Pester
# Pester tests of Read-VmHostStat. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
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
