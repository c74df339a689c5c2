#Requires -Modules Pester
# Pester tests of Start-VmProbe. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Start-VmProbe' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Start-VmProbe' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Start-VmProbe'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'offers -Once and -AsJob' {
        $command = Get-Command -Name Start-VmProbe
        $command.CommandType | Should -Be 'Function'
        $command.Parameters.Keys | Should -Contain 'Once'
        $command.Parameters.Keys | Should -Contain 'AsJob'
    }

    It 'writes the endpoint once with -Once' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        $endpoint = Join-Path $TestDrive 'once.prom'
        $config = Join-Path $TestDrive 'config.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: test:///default`ndelay: 1000`nperfsoftware: [task-clock]"
        Start-VmProbe -ConfigPath $config -Once # the first run loads what stays loaded (YamlDotNet)
        $before = Get-OpenFdCount
        Start-VmProbe -ConfigPath $config -Once
        Test-Path -LiteralPath $endpoint | Should -BeTrue
        # The engine's own series, written by the runner's cycle: the loop is not a second implementation.
        $text = Get-Content -LiteralPath $endpoint -Raw
        foreach ($family in 'vmprobe_probe_info', 'vmprobe_probe_errors_total', 'vmprobe_probe_last_cycle_timestamp_seconds', 'vmprobe_probe_event_supported', 'vmprobe_host_perf_events_total') {
            $text | Should -Match "(?m)^# TYPE $family "
        }
        Get-OpenFdCount | Should -Be $before
    }

    It 'runs one cycle as a job with -AsJob -Once' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        # The job imports the module by its manifest path in a thread job (or a child process): nothing may depend on
        # how pwsh was installed.
        $endpoint = Join-Path $TestDrive 'job.prom'
        $config = Join-Path $TestDrive 'job.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: test:///default`ndelay: 1000"
        $job = Start-VmProbe -ConfigPath $config -Once -AsJob
        try {
            $job | Should -BeOfType ([System.Management.Automation.Job])
            # A bound, not a timing: a hung job must not hang the suite.
            $null = $job | Wait-Job -Timeout 300
            $job.State | Should -Be 'Completed' -Because ((@($job | Receive-Job -Keep 2>&1) | ForEach-Object { "$_" }) -join "`n")
            Get-Content -LiteralPath $endpoint -Raw | Should -Match '(?m)^vmprobe_'
        }
        finally {
            $job | Remove-Job -Force
        }
    }

    It 'reports an endpoint it cannot write as an error and does not stop there' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        # A regular file where the endpoint's directory should be: Export-PromTextFile fails terminally every cycle.
        $blocker = Join-Path $TestDrive 'not-a-directory'
        Set-Content -LiteralPath $blocker -Value 'x'
        $config = Join-Path $TestDrive 'unwritable.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $blocker/once.prom`nurl: test:///default`ndelay: 1000"
        # Not wrapped in { } | Should -Not -Throw: -ErrorVariable must land in this scope. A throw fails the test anyway.
        Start-VmProbe -ConfigPath $config -Once -ErrorVariable probeErrors -ErrorAction SilentlyContinue
        # -ErrorVariable also collects the exceptions of the terminating errors caught inside the function
        # (CmdletInvocationException), which have no TargetObject: only the ErrorRecords are the reported errors.
        $records = @($probeErrors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $records.Count | Should -BeGreaterThan 0
        @($records | Where-Object { $_.FullyQualifiedErrorId -like 'textfile_open,*' }).Count | Should -BeGreaterThan 0
        (@($records | ForEach-Object { "$($_.TargetObject) $_" }) -join "`n") | Should -Match 'once\.prom'
        Test-Path -LiteralPath $blocker -PathType Leaf | Should -BeTrue
    }

    It 'ends on Stop (Ctrl+C) after writing the cycle in progress and releases every fd' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        function Stop-AfterFirstCycle($Probe) {
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddCommand('Import-Module').AddParameter('Name', $modulePath).AddStatement()
                $null = $shell.AddCommand('Start-VmProbe').AddParameter('ConfigPath', $Probe.Config)
                $running = $shell.BeginInvoke()
                Wait-Until { (Test-Path -LiteralPath $Probe.Endpoint) -and ((Get-Content -LiteralPath $Probe.Endpoint -Raw) -match 'vmprobe_probe_last_cycle_timestamp_seconds') }
                $shell.Stop() # what Ctrl+C does: StopProcessing of the running cmdlet
                $shell.InvocationStateInfo.State | Should -Be 'Stopped'
                Wait-Until { $running.IsCompleted } -TimeoutSeconds 5
            }
            finally {
                $shell.Dispose()
            }
        }

        # The first runspace loads PowerShell assemblies that stay mapped: measure the second run.
        Stop-AfterFirstCycle (New-ProbeConfig -Name 'stopped-warmup' -Delay 500 -Events 'task-clock', 'context-switches')
        $probe = New-ProbeConfig -Name 'stopped' -Delay 500 -Events 'task-clock', 'context-switches'
        $before = Get-OpenFdCount
        Stop-AfterFirstCycle $probe
        Get-OpenFdCount | Should -Be $before
        @(Get-ChildItem -LiteralPath (Split-Path $probe.Endpoint) -Force).Name | Should -Be @('vmprobe.prom') # no temporary file left
    }

    It 'runs as a job that Stop-Job stops cleanly' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        function Stop-AfterTwoCycles($Probe) {
            $job = Start-VmProbe -ConfigPath $Probe.Config -AsJob
            try {
                $job | Should -BeOfType ([System.Management.Automation.Job])
                # Two cycles: the file is rewritten with a later cycle timestamp.
                $stamp = { (Get-Content -LiteralPath $Probe.Endpoint | Select-String '^vmprobe_probe_last_cycle_timestamp_seconds (\S+)').Matches[0].Groups[1].Value }
                Wait-Until { Test-Path -LiteralPath $Probe.Endpoint }
                $first = & $stamp
                Wait-Until { (& $stamp) -ne $first }
                $job | Stop-Job
                $job.State | Should -Be 'Stopped'
            }
            finally {
                $job | Remove-Job -Force
            }
        }

        # A thread job runs in this process, so its probe's fds would show here; the first job loads ThreadJob's assemblies.
        Stop-AfterTwoCycles (New-ProbeConfig -Name 'job-warmup' -Delay 500 -Events 'task-clock', 'context-switches')
        $probe = New-ProbeConfig -Name 'job' -Delay 500 -Events 'task-clock', 'context-switches'
        $before = Get-OpenFdCount
        Stop-AfterTwoCycles $probe
        Get-OpenFdCount | Should -Be $before
        @(Get-ChildItem -LiteralPath (Split-Path $probe.Endpoint) -Force).Name | Should -Be @('vmprobe.prom')
    }
}
