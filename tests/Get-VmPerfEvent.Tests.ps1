#Requires -Modules Pester
# Pester tests of Get-VmPerfEvent. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Get-VmPerfEvent' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Get-VmPerfEvent' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Get-VmPerfEvent'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'lists software events' {
        $events = @(Get-VmPerfEvent)
        $events.Count | Should -BeGreaterThan 0
        $events[0] | Should -BeOfType ([VmProbe.VmPerfEventInfo])
        (Get-VmPerfEvent -Name TaskClock).Name | Should -Be 'task_clock'
    }

    It 'reports an unknown event name' {
        Get-VmPerfEvent -Name 'no_such_event' -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
