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

    It 'rejects a non-positive duration before opening anything' {
        # No domain and no root needed: -Duration is checked in BeginProcessing, before any target is looked at.
        $thrown = { Read-VmPerfCounter -Event task_clock -IncludeHost -Duration 0 -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -BeLike 'duration,invalid*'
        $thrown.Exception.Message | Should -BeLike '*-Duration*'
    }

    It 'names -Domain and -IncludeHost when given neither' {
        # -Domain is not mandatory (host-only counting); without a prompt the cmdlet explains why nothing is counted.
        $samples = @(Read-VmPerfCounter -Event task_clock -Duration 00:00:00.01 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $samples.Count | Should -Be 0
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'perf_session,no_target*'
        $errors[0].Exception.Message | Should -BeLike '*-Domain*'
        $errors[0].Exception.Message | Should -BeLike '*-IncludeHost*'
    }

    It 'counts the host alone with -IncludeHost and no domain' -Skip:(-not $isRoot) {
        $samples = @(Read-VmPerfCounter -Event task_clock -IncludeHost -Duration 00:00:00.2 -ErrorAction Stop)
        $samples.Count | Should -BeGreaterThan 0
        $samples | ForEach-Object { $_.Scope | Should -Be ([VmProbe.VmSampleScope]::Host) }
        $samples[0].Value | Should -BeGreaterThan 0
    }

    It 'looks a [pscustomobject] Name up at -Uri and reports the test domain has no QEMU process' -Skip:(-not $libvirtPresent) {
        # At qemu:///system the name would not be found (domain,not_found); at test:///default the domain exists but has
        # no process, a per-domain error, and nothing else is counted.
        $samples = @([pscustomobject]@{ Name = 'test' } | Read-VmPerfCounter -Uri 'test:///default' -Event task_clock -Duration 00:00:00.05 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $samples.Count | Should -Be 0
        @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'domain,not_found*' }).Count | Should -Be 0
        $noProcess = @($errors | Where-Object { $_.FullyQualifiedErrorId -like 'domain_process,not_found*' })
        $noProcess.Count | Should -Be 1
        $noProcess[0].Exception.Message | Should -BeLike "*'test'*"
    }
}
