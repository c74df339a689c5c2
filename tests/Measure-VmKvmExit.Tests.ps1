#Requires -Modules Pester
# Pester tests of Measure-VmKvmExit. This machine has no /dev/kvm: kvm:kvm_exit never fires, so on real domains the
# perf-filter tracer returns zero counts; the shape, the sort and the format view are tested on those, the arithmetic
# on fixture snapshots in xunit (KvmExitReportTests).

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
    $isRoot = (& id -u) -eq '0'
    $haveKvmExit = (Test-Path '/sys/kernel/tracing/events/kvm/kvm_exit') -or (Test-Path '/sys/kernel/debug/tracing/events/kvm/kvm_exit')
    # This pwsh process stands in for a QEMU: its threads are the "vCPU" threads the perf-filter tracer opens counters on.
    $self = [VmProbe.VmDomain]@{ Name = 'vmprobe-test-kvmexit'; Pid = $PID; Uri = 'process'; Vcpus = [VmProbe.VmVcpu[]]@([VmProbe.VmVcpu]::new(0, $PID)) }
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Measure-VmKvmExit' {
    It 'is exported by the module and has help' {
        $command = Get-Command -Name 'Measure-VmKvmExit' -Module VmProbe -ErrorAction Stop
        $command.OutputType.Type | Should -Contain ([VmProbe.VmKvmExitStat])
        (Get-Help Measure-VmKvmExit).Synopsis | Should -BeLike '*perf kvm stat*'
    }

    It 'refuses a duration that is not positive' {
        { $self | Measure-VmKvmExit -Duration 0 -ErrorAction Stop } | Should -Throw '*-Duration must be positive*'
    }

    It 'measures with eBPF where it loads, else with perf-filter, and says which' {
        if (-not $isRoot) { Set-ItResult -Skipped -Because 'tracepoint counters and eBPF need root here'; return }
        if (-not $haveKvmExit) { Set-ItResult -Skipped -Because 'this kernel has no kvm:kvm_exit tracepoint'; return }
        $bpfFds = { @(Get-ChildItem "/proc/$PID/fd" -ErrorAction Ignore | Where-Object { "$($_.LinkTarget)" -like 'anon_inode:bpf*' }).Count }
        $bpfBefore = & $bpfFds
        $output = @($self | Measure-VmKvmExit -Duration '00:00:00.300' -Reason 'HLT', 'EPT_VIOLATION', 'IO_INSTRUCTION' -Verbose 4>&1)
        $stats = @($output | Where-Object { $_ -is [VmProbe.VmKvmExitStat] })
        $said = ($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n"
        $said | Should -Match 'kvmexits: '
        if ($said -match 'eBPF') {
            # The eBPF tracer reports the reasons it saw: kvm_exit never fires here (and this pwsh is no VM anywhere).
            $stats.Count | Should -Be 0
            # Its programs, maps and links are closed when the command ends.
            & $bpfFds | Should -Be $bpfBefore
            return
        }

        # perf-filter: one counter per reason asked, so one (zero) object each.
        $stats.Count | Should -Be 3
        $stats | ForEach-Object {
            $_ | Should -BeOfType ([VmProbe.VmKvmExitStat])
            $_.Domain | Should -Be 'vmprobe-test-kvmexit'
            $_.Count | Should -Be 0
            $_.Share | Should -Be 0
            $_.Mode | Should -Be 'perf-filter'
            $_.MeanUs | Should -BeNullOrEmpty
            $_.Interval.TotalMilliseconds | Should -BeGreaterOrEqual 250
        }
        # Equal counts: by name (perf kvm stat's tie order here), so the order is fixed.
        ($stats.Reason -join ',') | Should -Be 'EPT_VIOLATION,HLT,IO_INSTRUCTION'
    }

    It 'reads like perf kvm stat in Format-Table' {
        $stats = @(
            [VmProbe.VmKvmExitStat]@{ Domain = 'web'; Reason = 'EPT_VIOLATION'; Count = 900; Rate = 90; Share = 90; MinUs = 0.5; MeanUs = 1.2; MaxUs = 40.0; P99Us = 8.0; Mode = 'bpf-latency'; Interval = [TimeSpan]::FromSeconds(10) }
            [VmProbe.VmKvmExitStat]@{ Domain = 'web'; Reason = 'HLT'; Count = 100; Rate = 10; Share = 10; Mode = 'bpf-latency'; Interval = [TimeSpan]::FromSeconds(10) }
        )
        $table = $stats | Format-Table | Out-String -Width 200
        $table | Should -Match 'VM-EXIT\s+Samples\s+Samples%\s+Rate/s\s+MinTime'
        $table | Should -Match 'EPT_VIOLATION\s+900\s+90\.00%'
        $table | Should -Match 'HLT\s+100\s+10\.00%'
    }

    It 'says why when no tracer can run' {
        if ($isRoot) { Set-ItResult -Skipped -Because 'as root eBPF or the perf-filter tracer runs here'; return }
        { $self | Measure-VmKvmExit -Duration '00:00:00.100' -ErrorAction Stop } | Should -Throw '*bpf not available*'
    }
}
