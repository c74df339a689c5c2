#Requires -Modules Pester
# Pester tests of Read-VmSchedStat. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Read-VmSchedStat' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmSchedStat' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Read-VmSchedStat'
        $command.OutputType | Should -Not -BeNullOrEmpty
        $command.OutputType.Name | Should -Contain 'VmProbe.VmStatSample'
    }

    It 'outputs the runner procfs families of a QEMU process' -Skip:(-not $isRoot) {
        $domains = @(Get-VmDomain -Uri process | Where-Object Pid -gt 0)
        if ($domains.Count -eq 0) {
            Set-ItResult -Skipped -Because 'no QEMU process runs on this host'
            return
        }

        $samples = @($domains | Read-VmSchedStat)
        $samples.Family | Should -Contain 'domain_sched_wait_seconds_total'
        $samples.Family | Should -Contain 'domain_minor_page_faults_total'
        $samples.Family | Should -Contain 'domain_threads'
    }

    It 'reads nothing from an empty pipeline' {
        @(@() | Read-VmSchedStat) | Should -BeNullOrEmpty
    }
}
