#Requires -Modules Pester
# Pester tests of Read-VmDomainStat. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    # $isRoot and $libvirtPresent for the -Skip: arguments below.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'Read-VmDomainStat' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmDomainStat' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Read-VmDomainStat'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'reads the state of the libvirt test domain' -Skip:(-not $libvirtPresent) {
        $samples = @(Get-VmDomain -Uri 'test:///default' | Read-VmDomainStat -Uri 'test:///default')
        $samples.Count | Should -BeGreaterThan 0
        $samples[0] | Should -BeOfType ([VmProbe.VmStatSample])
        $samples[0].Domain | Should -Be 'test'
    }
}
