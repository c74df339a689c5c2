#Requires -Modules Pester
# Pester tests of continuous sampling (-Continuous, -SampleInterval, -MaxSamples) of Read-VmHostStat, Read-VmSchedStat,
# Read-VmDomainStat and Read-VmPerfCounter, in a real pwsh. Perf cases need root, libvirt cases the test:/// driver.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop

    # Samples grouped into readings by their timestamp, oldest first.
    function Get-Reading([object[]] $Samples) {
        # The comma keeps one reading an array: a lone GroupInfo's .Count is its sample count.
        , @($Samples | Group-Object -Property { $_.Timestamp.UtcTicks } | Sort-Object -Property { [long] $_.Name })
    }

    # Starts $Script in a new runspace of this process, waits for its first output, stops it; returns the PowerShell.
    function Stop-AfterFirstOutput([string] $Script) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module -Name '$modulePath'; $Script")
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $inputs = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $inputs.Complete()
            $async = $ps.BeginInvoke($inputs, $output)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($output.Count -eq 0 -and -not $async.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 20) {
                Start-Sleep -Milliseconds 20
            }

            $clock.Restart()
            $ps.Stop()
            [pscustomobject]@{
                State       = $ps.InvocationStateInfo.State
                Reason      = $ps.InvocationStateInfo.Reason
                Output      = $output.Count
                StopSeconds = $clock.Elapsed.TotalSeconds
            }
        }
        finally {
            $ps.Dispose()
        }
    }

    # A domain made of this test process: its threads stand for QEMU's, its main thread for vCPU 0.
    $self = [VmProbe.VmDomain]@{
        Name  = 'pester-self'
        Uuid  = [guid]'00000000-0000-4000-8000-00000000f00d'
        State = [VmProbe.VmDomainState]::Running
        Pid   = $PID
        Uri   = 'process'
        Vcpus = [VmProbe.VmVcpu[]]@([VmProbe.VmVcpu]::new(0, $PID))
    }
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    # $isRoot and $libvirtPresent for the -Skip: arguments below.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'Continuous sampling of the Read-* cmdlets' {
    Context 'parameters' {
        It '<Command> has -Continuous, -SampleInterval and -MaxSamples' -ForEach @(
            @{ Command = 'Read-VmHostStat' }, @{ Command = 'Read-VmSchedStat' }, @{ Command = 'Read-VmDomainStat' }, @{ Command = 'Read-VmPerfCounter' }, @{ Command = 'Read-VmKvmStat' }
        ) {
            $parameters = (Get-Command -Name $Command -Module VmProbe).Parameters
            $parameters['Continuous'].ParameterType | Should -Be ([switch])
            $parameters['SampleInterval'].ParameterType | Should -Be ([double])
            $parameters['MaxSamples'].ParameterType | Should -Be ([int])
        }

        It 'Read-VmPerfCounter takes them with -Session only' {
            $sets = (Get-Command -Name Read-VmPerfCounter).Parameters['MaxSamples'].ParameterSets.Keys
            @($sets) | Should -Be @('Session')
        }

        It 'rejects -MaxSamples <Value> naming the parameter' -ForEach @(@{ Value = 0 }, @{ Value = -3 }) {
            $thrown = { Read-VmHostStat -MaxSamples $Value -ErrorAction Stop } | Should -Throw -PassThru
            $thrown.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
            $thrown.Exception.Message | Should -BeLike "*'MaxSamples'*"
        }

        It 'rejects -SampleInterval <Value> naming the parameter' -ForEach @(@{ Value = 0 }, @{ Value = -1 }, @{ Value = 1e9 }) {
            $thrown = { Read-VmHostStat -SampleInterval $Value -ErrorAction Stop } | Should -Throw -PassThru
            $thrown.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
            $thrown.Exception.Message | Should -BeLike "*'SampleInterval'*"
            $thrown.Exception.Message | Should -BeLike '*greater than 0*'
        }
    }

    Context 'Read-VmHostStat' {
        It 'reads once without them, with no Interval and no Rate' {
            $samples = @(Read-VmHostStat)
            (Get-Reading $samples).Count | Should -Be 1
            @($samples | Where-Object { $null -ne $_.Interval -or $null -ne $_.Rate }).Count | Should -Be 0
        }

        It 'takes -MaxSamples 3 readings -SampleInterval 0.2 apart with rates of the counters' {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $samples = @(Read-VmHostStat -MaxSamples 3 -SampleInterval 0.2)
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.39
            $readings = Get-Reading $samples
            $readings.Count | Should -Be 3

            # The first reading has nothing to take a rate against.
            @($readings[0].Group | Where-Object { $null -ne $_.Interval -or $null -ne $_.Rate }).Count | Should -Be 0
            foreach ($reading in $readings[1..2]) {
                foreach ($sample in $reading.Group) {
                    $sample.Interval.TotalSeconds | Should -BeGreaterThan 0.15
                    $sample.Interval.TotalSeconds | Should -BeLessThan 0.8
                }

                $cpu = @($reading.Group | Where-Object Family -eq 'host_cpu_seconds_total')
                $cpu.Count | Should -BeGreaterThan 0
                $cpu | ForEach-Object { $_.Rate | Should -Not -BeNullOrEmpty; $_.Rate | Should -BeGreaterOrEqual 0 }
                # All modes together: about one CPU-second per second per CPU.
                ($cpu | Measure-Object -Property Rate -Sum).Sum | Should -BeLessThan ([Environment]::ProcessorCount * 1.5)
                $reading.Group | Where-Object Type -eq ([VmProbe.MetricType]::Gauge) | ForEach-Object { $_.Rate | Should -BeNullOrEmpty }
            }
        }

        It 'shows Interval and Rate/s in the Raw table (the default one: VmProbe.Format.Tests.ps1)' {
            $table = Read-VmHostStat -MaxSamples 2 -SampleInterval 0.1 | Format-Table -View Raw | Out-String -Width 200
            $table | Should -Match 'Interval'
            $table | Should -Match 'Rate/s'
        }

        It '-Continuous stopped by PowerShell.Stop ends cleanly and leaves no fd' {
            # Warm up: the first runspace loads and maps PowerShell's assemblies, which holds fds.
            $null = Stop-AfterFirstOutput 'Read-VmHostStat -Continuous -SampleInterval 0.1'
            $before = Get-OpenFdCount
            $run = Stop-AfterFirstOutput 'Read-VmHostStat -Continuous -SampleInterval 5'
            $run.Output | Should -BeGreaterThan 0
            $run.State | Should -Be ([System.Management.Automation.PSInvocationState]::Stopped)
            $run.StopSeconds | Should -BeLessThan 2 # the 5 s wait was cancelled, not waited out
            Get-OpenFdCount | Should -Be $before
        }

        It '-Continuous with -MaxSamples stops after that many readings' {
            (Get-Reading @(Read-VmHostStat -Continuous -MaxSamples 2 -SampleInterval 0.1)).Count | Should -Be 2
        }

        It 'continuous samples pipe to Export-PromTextFile as one series each, with the newest value' {
            $path = Join-Path $TestDrive 'host.prom'
            $samples = @(Read-VmHostStat -Continuous -MaxSamples 3 -SampleInterval 0.1)
            $samples | Export-PromTextFile -Path $path -WarningVariable warnings
            $warnings | Should -BeNullOrEmpty
            $lines = @(Get-Content -LiteralPath $path | Where-Object { $_ -notlike '#*' })
            $names = $lines | ForEach-Object { ($_ -split ' ')[0] }
            @($names | Group-Object | Where-Object Count -gt 1) | Should -BeNullOrEmpty
            $lastReading = (Get-Reading $samples)[-1].Group
            $lines.Count | Should -Be $lastReading.Count
            (Get-Content -LiteralPath $path -Raw) | Should -Not -Match '(?i)rate|interval'
        }
    }

    Context 'Read-VmSchedStat' {
        It 'reads a domain of this process -MaxSamples 2 with non-negative rates' {
            $samples = @($self | Read-VmSchedStat -MaxSamples 2 -SampleInterval 0.2 -ErrorAction Stop)
            $readings = Get-Reading $samples
            $readings.Count | Should -Be 2
            $second = $readings[1].Group
            $run = @($second | Where-Object Family -eq 'domain_sched_run_seconds_total')
            $run.Count | Should -Be 1
            $run[0].Interval.TotalSeconds | Should -BeGreaterThan 0.15
            $run[0].Rate | Should -Not -BeNullOrEmpty
            $run[0].Rate | Should -BeGreaterOrEqual 0
            $second | Where-Object { $null -ne $_.Rate } | ForEach-Object { $_.Rate | Should -BeGreaterOrEqual 0 }
            ($second | Where-Object Family -eq 'domain_threads').Rate | Should -BeNullOrEmpty
        }
    }

    Context 'Read-VmDomainStat' {
        It 'reads the test driver -MaxSamples 2: the state gauge has an Interval and no Rate' -Skip:(-not $libvirtPresent) {
            $samples = @(Read-VmDomainStat -Uri 'test:///default' -MaxSamples 2 -SampleInterval 0.1 -ErrorAction Stop)
            $readings = Get-Reading $samples
            $readings.Count | Should -Be 2
            $readings[1].Group | ForEach-Object {
                $_.Interval.TotalSeconds | Should -BeGreaterThan 0.05
                if ($_.Type -ne [VmProbe.MetricType]::Counter) { $_.Rate | Should -BeNullOrEmpty }
            }
        }
    }

    Context 'Read-VmPerfCounter' {
        It 'reads a host task_clock session -MaxSamples 2: the rate is the CPUs busy, in ns per second' -Skip:(-not $isRoot) {
            $session = Start-VmPerfSession -Event task_clock -IncludeHost -ErrorAction Stop
            try {
                $samples = @(Read-VmPerfCounter -Session $session -MaxSamples 2 -SampleInterval 0.3 -ErrorAction Stop)
                $readings = Get-Reading $samples
                $readings.Count | Should -Be 2
                $second = @($readings[1].Group)
                $second.Count | Should -BeGreaterThan 0
                $busy = ($second | Measure-Object -Property Rate -Sum).Sum / 1e9
                $busy | Should -BeGreaterOrEqual 0
                $busy | Should -BeLessOrEqual ([Environment]::ProcessorCount * 1.1)
                $second | ForEach-Object { $_.Interval.TotalSeconds | Should -BeGreaterThan 0.25 }
                $session.IsOpen | Should -BeTrue # the session is the caller's: sampling leaves it open
            }
            finally {
                $session | Stop-VmPerfSession
            }
        }

        It '-Continuous on a session stops cleanly (the runspace closing closes the session)' -Skip:(-not $isRoot) {
            $run = Stop-AfterFirstOutput 'Start-VmPerfSession -Event task_clock -IncludeHost | Read-VmPerfCounter -Continuous -SampleInterval 5'
            $run.Output | Should -BeGreaterThan 0
            $run.State | Should -Be ([System.Management.Automation.PSInvocationState]::Stopped)
            $run.StopSeconds | Should -BeLessThan 2
        }
    }
}
