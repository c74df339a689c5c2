#Requires -Modules Pester
# Pester tests of Start-VmPerfSession. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Start-VmPerfSession' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Start-VmPerfSession' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Start-VmPerfSession'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'opens host counters and closes them' -Skip:(-not $isRoot) {
        $session = Start-VmPerfSession -Event TaskClock -IncludeHost
        try {
            $session | Should -BeOfType ([VmProbe.VmPerfSession])
            $session.OpenFds | Should -BeGreaterThan 0
            $session.Targets | Should -Contain 'host'
        }
        finally {
            $session | Stop-VmPerfSession
        }

        $session.OpenFds | Should -Be 0
    }

    It 'rejects an unknown event' {
        { Start-VmPerfSession -Event 'no_such_event' -IncludeHost -ErrorAction Stop } | Should -Throw
    }
}
