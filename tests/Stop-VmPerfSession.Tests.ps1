#Requires -Modules Pester
# Pester tests of Stop-VmPerfSession. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Stop-VmPerfSession' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Stop-VmPerfSession' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Stop-VmPerfSession'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'supports -WhatIf' {
        (Get-Command -Name Stop-VmPerfSession).Parameters.Keys | Should -Contain 'WhatIf'
    }

    It 'stops a session twice without error' -Skip:(-not $isRoot) {
        $session = Start-VmPerfSession -Event task_clock -IncludeHost
        $session | Stop-VmPerfSession
        { $session | Stop-VmPerfSession -ErrorAction Stop } | Should -Not -Throw
        $session.IsOpen | Should -BeFalse
    }
}
