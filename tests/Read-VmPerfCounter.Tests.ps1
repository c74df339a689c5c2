#Requires -Modules Pester
# Pester tests of Read-VmPerfCounter. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Read-VmPerfCounter' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmPerfCounter' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Read-VmPerfCounter'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'has the plural alias' {
        (Get-Alias -Name Read-VmPerfCounters).ResolvedCommandName | Should -Be 'Read-VmPerfCounter'
    }

    It 'counts host events for a duration' -Skip:(-not $isRoot) {
        $samples = @(Start-VmPerfSession -Event task_clock -IncludeHost | ForEach-Object {
                try {
                    Start-Sleep -Milliseconds 200
                    $_ | Read-VmPerfCounter
                }
                finally {
                    $_ | Stop-VmPerfSession
                }
            })
        $samples.Count | Should -BeGreaterThan 0
        $samples[0] | Should -BeOfType ([VmProbe.VmPerfSample])
        $samples[0].Scope | Should -Be ([VmProbe.VmSampleScope]::Host)
        $samples[0].Value | Should -BeGreaterThan 0
    }

    It 'rejects a non-positive duration' {
        { [pscustomobject]@{ Name = 'x' } | Read-VmPerfCounter -Event task_clock -Duration 0 -ErrorAction Stop } | Should -Throw
    }
}
