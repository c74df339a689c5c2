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

    It 'outputs one zero object per counted reason, sorted, with the perf-filter mode' {
        if (-not $isRoot) { Set-ItResult -Skipped -Because 'tracepoint counters need root here'; return }
        if (-not $haveKvmExit) { Set-ItResult -Skipped -Because 'this kernel has no kvm:kvm_exit tracepoint'; return }
        $stats = @($self | Measure-VmKvmExit -Duration '00:00:00.300' -Reason 'HLT', 'EPT_VIOLATION', 'IO_INSTRUCTION')
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
        $table = $stats | Format-Table | Out-String -Width 200
        $table | Should -Match 'VM-EXIT\s+Samples\s+Samples%\s+Rate/s\s+MinTime'
        $table | Should -Match 'EPT_VIOLATION\s+0\s+0\.00%'
    }

    It 'says why when no tracer can run' {
        if ($isRoot) { Set-ItResult -Skipped -Because 'as root the perf-filter tracer runs here'; return }
        { $self | Measure-VmKvmExit -Duration '00:00:00.100' -ErrorAction Stop } | Should -Throw '*bpf not available*'
    }
}
