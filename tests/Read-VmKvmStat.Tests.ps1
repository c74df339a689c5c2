#Requires -Modules Pester
# Pester tests of Read-VmKvmStat. The debugfs fallback is exercised on a fixture tree (VMPROBE_DEBUGFS) whose PID-FD
# directory names this pwsh process, which holds no KVM stats fds. Per-vCPU statistics and histograms come from stats
# fds: a helper process (tests/tools/kvm-stats-helper.py) holds memfds with blobs in the kernel's layout, which the
# cmdlet duplicates with pidfd_getfd (root) once its test seam accepts their link names.

BeforeDiscovery {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $canDuplicate = $isRoot -and $null -ne (Get-Command -Name python3 -ErrorAction Ignore)
    if (-not $canDuplicate) { Write-Host 'Read-VmKvmStat stats-fd cases skipped: they need root (pidfd_getfd) and python3 (the helper)' }
}

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

    # The seam: memfds named kvm-vcpu-stats:N read as QEMU's stats fds (null again in AfterAll).
    $seam = [VmProbe.Commands.ReadVmKvmStatCommand].GetField('ExtraStatsLinkPrefix', [System.Reflection.BindingFlags]'NonPublic, Static')
    $helpers = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    # Starts the helper with $Vcpus stats memfds; returns a domain of its pid.
    function Start-StatsHelper([int] $Vcpus, [int] $TickMs = 0) {
        $start = [System.Diagnostics.ProcessStartInfo]::new('python3')
        foreach ($argument in @("$PSScriptRoot/tools/kvm-stats-helper.py", "$Vcpus", "$TickMs")) { $start.ArgumentList.Add($argument) }
        $start.RedirectStandardInput = $true
        $start.RedirectStandardOutput = $true
        $helper = [System.Diagnostics.Process]::Start($start)
        $helpers.Add($helper)
        $helper.StandardOutput.ReadLine() | Should -Be 'ready'
        [VmProbe.VmDomain]@{ Name = "helper-$($helper.Id)"; Pid = $helper.Id; Uri = 'process'; Uuid = [guid]::NewGuid() }
    }
}

AfterAll {
    $env:VMPROBE_DEBUGFS = $previous
    $seam.SetValue($null, $null)
    foreach ($helper in $helpers) { $helper.StandardInput.Close(); $null = $helper.WaitForExit(5000); $helper.Dispose() }
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

    It 'refuses -Allow <Item> with a stable error id naming the item' -ForEach @(
        @{ Item = 'EXITS'; Expected = "*'EXITS' is not a KVM statistic name*did you mean 'exits'*" }
        @{ Item = 'halt-*'; Expected = "*'halt-*' is not a KVM statistic name*" }
    ) {
        $record = $null
        try { $domain | Read-VmKvmStat -Allow $Item -ErrorAction Stop } catch { $record = $_ }
        $record | Should -Not -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -BeLike 'kvmstatsallow,invalid_name*'
        $record.Exception.Message | Should -BeLike $Expected
        $record.TargetObject | Should -Be $Item
    }

    It 'refuses an empty -Allow item at binding, naming the parameter' {
        $record = $null
        try { $domain | Read-VmKvmStat -Allow 'exits', '' -ErrorAction Stop } catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
        $record.Exception.Message | Should -BeLike "*'Allow'*"
    }

    It 'takes -MaxSamples 2 readings -SampleInterval 0.2 apart from debugfs: counters get a Rate, gauges only an Interval' {
        $samples = @($domain | Read-VmKvmStat -MaxSamples 2 -SampleInterval 0.2 -ErrorAction Stop)
        $readings = @($samples | Group-Object -Property { $_.Timestamp.UtcTicks } | Sort-Object -Property { [long] $_.Name })
        $readings.Count | Should -Be 2
        @($readings[0].Group | Where-Object { $null -ne $_.Interval -or $null -ne $_.Rate }).Count | Should -Be 0
        $exits = $readings[1].Group | Where-Object Family -eq 'domain_kvm_exits_total'
        $exits.Interval.TotalSeconds | Should -BeGreaterThan 0.15
        $exits.Rate | Should -Be 0 # the fixture file does not change
        $info = $readings[1].Group | Where-Object Family -eq 'domain_kvm_stats_info'
        $info.Interval | Should -Not -BeNullOrEmpty
        $info.Rate | Should -BeNullOrEmpty
    }

    It '-PerVcpu on debugfs still gives the domain sums (debugfs has no per-vCPU files)' {
        $samples = @($domain | Read-VmKvmStat -PerVcpu -ErrorAction Stop)
        ($samples | Where-Object Family -eq 'domain_kvm_exits_total').Value | Should -Be 1234
        @($samples | Where-Object { $_.Family -like 'domain_vcpu_kvm_*' }).Count | Should -Be 0
    }

    Context 'stats fds (helper memfds)' -Skip:(-not $canDuplicate) {
        BeforeAll { $seam.SetValue($null, '/memfd:kvm-vcpu-stats:') }

        It 'sums the vCPUs per domain and says the source is binary' {
            $vm = Start-StatsHelper -Vcpus 2
            $samples = @($vm | Read-VmKvmStat -ErrorAction Stop)
            ($samples | Where-Object Family -eq 'domain_kvm_exits_total').Value | Should -Be 3000
            ($samples | Where-Object Family -eq 'domain_kvm_halt_poll_success_seconds_total').Value | Should -Be 4.5
            ($samples | Where-Object Family -eq 'domain_kvm_stats_info').Labels['source'] | Should -Be 'binary'
            @($samples | Where-Object { $_.Family -like 'domain_vcpu_kvm_*' }).Count | Should -Be 0
        }

        It '-PerVcpu gives one sample per vCPU with its index' {
            $vm = Start-StatsHelper -Vcpus 2
            $exits = @($vm | Read-VmKvmStat -PerVcpu -Allow exits -ErrorAction Stop | Where-Object Family -eq 'domain_vcpu_kvm_exits_total' | Sort-Object Vcpu)
            $exits.Count | Should -Be 2
            $exits.Vcpu | Should -Be @(0, 1)
            $exits.Value | Should -Be @(1000, 2000)
            $exits | ForEach-Object { $_.Labels['vcpu'] | Should -Be "$($_.Vcpu)"; $_.Domain | Should -Be $vm.Name }
        }

        It 'outputs a log histogram as readable cumulative buckets in seconds' {
            $vm = Start-StatsHelper -Vcpus 1
            $hist = @($vm | Read-VmKvmStat -Allow halt_poll_success_hist -ErrorAction Stop | Where-Object Type -eq ([VmProbe.MetricType]::Histogram))
            $hist.Count | Should -Be 1
            $hist[0].Family | Should -Be 'domain_kvm_halt_poll_success_hist_seconds'
            $buckets = @($hist[0].Histogram.Buckets)
            # Buckets 1, 2, 3, 4 hold 1+2+3+4 = 10 observations; the count is the Value.
            $hist[0].Value | Should -Be 10
            $buckets[-1].UpperBound | Should -Be ([double]::PositiveInfinity)
            $buckets[-1].CumulativeCount | Should -Be 10
            $counts = @($buckets.CumulativeCount)
            for ($i = 1; $i -lt $counts.Count; $i++) { $counts[$i] | Should -BeGreaterOrEqual $counts[$i - 1] }
            # Log2 buckets of nanoseconds: every finite bound is a power of two times 1e-9 s, below a second here.
            $finite = @($buckets | Where-Object { -not [double]::IsInfinity($_.UpperBound) })
            $finite.Count | Should -BeGreaterThan 2
            $finite | ForEach-Object { $_.UpperBound | Should -BeLessThan 10 }
        }

        It '-MaxSamples 2 gives the rate of a growing counter' {
            $vm = Start-StatsHelper -Vcpus 1 -TickMs 20
            $samples = @($vm | Read-VmKvmStat -Allow exits -MaxSamples 2 -SampleInterval 0.5 -ErrorAction Stop)
            $exits = @($samples | Where-Object Family -eq 'domain_kvm_exits_total' | Sort-Object Timestamp)
            $exits.Count | Should -Be 2
            $exits[1].Value | Should -BeGreaterThan $exits[0].Value
            # The helper adds 1000 exits a second.
            $exits[1].Rate | Should -BeGreaterThan 500
            $exits[1].Rate | Should -BeLessThan 2000
        }
    }

    It 'reads nothing from an empty pipeline' {
        @(@() | Read-VmKvmStat) | Should -BeNullOrEmpty
    }
}
