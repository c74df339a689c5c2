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

    It 'looks a name up at -Uri and reports the test domain has no QEMU process' -Skip:(-not $libvirtPresent) {
        # At qemu:///system the name would not be found (domain,not_found). At test:///default it resolves to the
        # driver's domain, which has no process: a non-terminating error, and no session, since nothing is counted.
        $sessions = @('test' | Start-VmPerfSession -Uri 'test:///default' -Event TaskClock -ErrorVariable errors -ErrorAction SilentlyContinue)
        try {
            @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'domain,not_found*' }).Count | Should -Be 0
            $noProcess = @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'domain_process,not_found*' })
            $noProcess.Count | Should -Be 1
            $noProcess[0].Exception.Message | Should -BeLike "*'test'*"
            $sessions.Count | Should -Be 0
        }
        finally {
            # Only what a regression would have opened: nothing to pipe otherwise.
            if ($sessions.Count -gt 0) {
                $sessions | Stop-VmPerfSession
            }
        }
    }

    It 'takes CSV rows (Import-Csv, ConvertFrom-Csv) as domains' -Skip:(-not $libvirtPresent) {
        $rows = @('Name,Uuid', 'test,') | ConvertFrom-Csv
        $sessions = @($rows | Start-VmPerfSession -Uri 'test:///default' -Event TaskClock -ErrorVariable errors -ErrorAction SilentlyContinue)
        try {
            @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'domain_process,not_found*' }).Count | Should -Be 1
            $sessions.Count | Should -Be 0
        }
        finally {
            # Only what a regression would have opened: nothing to pipe otherwise.
            if ($sessions.Count -gt 0) {
                $sessions | Stop-VmPerfSession
            }
        }
    }

    It 'rejects an unknown event' {
        { Start-VmPerfSession -Event 'no_such_event' -IncludeHost -ErrorAction Stop } | Should -Throw
    }
}
