#Requires -Modules Pester
# Pester tests of Read-VmKvmStat. The debugfs fallback is exercised on a fixture tree (VMPROBE_DEBUGFS) whose PID-FD
# directory names this pwsh process, which holds no KVM stats fds.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop

    $debugfs = Join-Path $TestDrive 'debug'
    $kvm = Join-Path $debugfs 'kvm'
    $vm = Join-Path $kvm "$PID-11"
    New-Item -ItemType Directory -Path $vm -Force | Out-Null
    Set-Content -Path (Join-Path $kvm 'exits') -Value '777'
    Set-Content -Path (Join-Path $vm 'exits') -Value '1234'
    Set-Content -Path (Join-Path $vm 'halt_wait_ns') -Value '1500000000'
    Set-Content -Path (Join-Path $vm 'mmu_rmaps_stat') -Value 'not a number'
    $previous = $env:VMPROBE_DEBUGFS
    $env:VMPROBE_DEBUGFS = $debugfs
    $domain = [VmProbe.VmDomain]@{ Name = 'fixture-vm'; Pid = $PID; Uri = 'process'; Uuid = [guid]'0e1d2c3b-0000-0000-0000-000000000001' }
}

AfterAll {
    $env:VMPROBE_DEBUGFS = $previous
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Read-VmKvmStat' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmKvmStat' -Module VmProbe -ErrorAction Stop
        $command.OutputType.Name | Should -Contain 'VmProbe.VmStatSample'
    }

    It 'reads a domain from debugfs in base units and says which source served it' {
        $samples = @($domain | Read-VmKvmStat)
        ($samples | Where-Object Family -eq 'domain_kvm_exits_total').Value | Should -Be 1234
        ($samples | Where-Object Family -eq 'domain_kvm_halt_wait_seconds_total').Value | Should -Be 1.5
        ($samples | Where-Object Family -eq 'domain_kvm_stats_info').Labels['source'] | Should -Be 'debugfs'
        $samples.Family | Should -Not -Contain 'host_kvm_exits_total'
        $samples.Family | Should -Not -Contain 'domain_kvm_mmu_rmaps_stat'
    }

    It 'filters with -Allow and adds host totals with -IncludeHost' {
        $samples = @($domain | Read-VmKvmStat -Allow exits -IncludeHost)
        ($samples | Where-Object Family -eq 'host_kvm_exits_total').Value | Should -Be 777
        $samples.Family | Should -Not -Contain 'domain_kvm_halt_wait_seconds_total'
    }

    It 'refuses an invalid statistic name' {
        { $domain | Read-VmKvmStat -Allow 'bad name' -ErrorAction Stop } | Should -Throw '*not a KVM statistic name*'
    }

    It 'reads nothing from an empty pipeline' {
        @(@() | Read-VmKvmStat) | Should -BeNullOrEmpty
    }
}
