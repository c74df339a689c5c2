#Requires -Modules Pester
# Pester tests of Read-VmPower and of the power part of Read-VmHostStat, in a real pwsh. This machine has no energy
# meter: a sysfs tree in TestDrive, named by VMPROBE_SYSFS, stands in for an Intel host's powercap zones. The test
# writes package-0 itself between readings (so the joules are known), dram-0 stays put, and a thread job makes psys
# climb at a constant 40 W of wall-clock time. The domain is this pwsh process itself, named by pid (its threads' CPU
# time is what the CPU-time model divides by).

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $script:sysfs = Join-Path $TestDrive 'sys'
    function New-Zone([string] $Id, [string] $Name, [long] $Microjoules) {
        $zone = Join-Path $script:sysfs "class/powercap/$Id"
        New-Item -ItemType Directory -Path $zone -Force | Out-Null
        Set-Content -Path (Join-Path $zone 'name') -Value $Name
        Set-Content -Path (Join-Path $zone 'max_energy_range_uj') -Value '262143328850'
        Set-Content -Path (Join-Path $zone 'energy_uj') -Value $Microjoules
        Join-Path $zone 'energy_uj'
    }

    # Whole file or nothing, as sysfs reads are: a truncated file mid-write would read as garbage.
    function Set-Energy([string] $File, [long] $Microjoules) {
        [System.IO.File]::WriteAllText("$File.tmp", "$Microjoules`n")
        [System.IO.File]::Move("$File.tmp", $File, $true)
    }

    $script:package = New-Zone 'intel-rapl:0' 'package-0' 1000000
    $null = New-Zone 'intel-rapl:0:2' 'dram' 500000
    $psys = New-Zone 'intel-rapl:1' 'psys' 2000000
    $script:packageMicrojoules = [long] 1000000
    $meter = Join-Path $script:sysfs 'class/hwmon/hwmon0'
    New-Item -ItemType Directory -Path $meter -Force | Out-Null
    Set-Content -Path (Join-Path $meter 'name') -Value 'power_meter'
    Set-Content -Path (Join-Path $meter 'power1_average') -Value '231500000'
    $script:previousSysfs = $env:VMPROBE_SYSFS
    $env:VMPROBE_SYSFS = $script:sysfs

    $script:psysWatts = 40
    $script:climb = Start-ThreadJob -ArgumentList $psys, $script:psysWatts -ScriptBlock {
        param($file, $watts)
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while ($true) {
            $energy = 2000000 + [long] ($watts * 1e6 * $clock.Elapsed.TotalSeconds)
            [System.IO.File]::WriteAllText("$file.tmp", "$energy`n")
            [System.IO.File]::Move("$file.tmp", $file, $true)
            Start-Sleep -Milliseconds 10
        }
    }

    function Invoke-Spin([double] $Seconds) {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $x = 0.0
        while ($clock.Elapsed.TotalSeconds -lt $Seconds) { $x += [math]::Sqrt($x + 1) }
    }

    # Where a CPU PMU counts cycles the runner's cycles model applies; this machine has none.
    $script:expectedModel = @('cpu_time')
    if (Test-Path '/sys/bus/event_source/devices/cpu') {
        $script:expectedModel += 'cycles'
    }

    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
    $script:self = [VmProbe.VmDomain]@{ Name = 'pester-power'; Uuid = [guid]::NewGuid(); Pid = $PID; Uri = 'process' }
}

AfterAll {
    $script:climb | Stop-Job -PassThru | Remove-Job -Force
    $env:VMPROBE_SYSFS = $script:previousSysfs
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Read-VmPower' {
    It 'is exported by the module with its output type' {
        $command = Get-Command -Name 'Read-VmPower' -Module VmProbe -ErrorAction Stop
        $command.OutputType.Name | Should -Contain 'VmProbe.VmPowerSample'
        $command.Parameters.Keys | Should -Contain 'Continuous'
    }

    It 'gives the domain its energy in every zone, with watts even on the first call' {
        $samples = @($script:self | Read-VmPower -SampleInterval 0.3)
        @($samples.Zone | Sort-Object) | Should -Be @('dram-0', 'package-0', 'psys')
        $samples | ForEach-Object {
            $_.Domain | Should -Be 'pester-power'
            $_.Uuid | Should -Be $script:self.Uuid
            $_.Source | Should -Be 'powercap'
            $_.Model | Should -BeIn $script:expectedModel
            $_.Watts | Should -Not -BeNullOrEmpty
        }

        # package-0 did not change over the first interval: no energy, and an idle estimate of 0 W.
        ($samples | Where-Object Zone -eq 'package-0').Watts | Should -Be 0
        $script:first = $samples | Where-Object Zone -eq 'package-0'
    }

    It 'gives watts equal to the energy attributed between two readings over their time, within the joules the fixture added' {
        Invoke-Spin 0.5 # this pwsh had CPU time over the interval, so a share of it
        $script:packageMicrojoules += 50000000 # 50 J
        Set-Energy $script:package $script:packageMicrojoules
        $second = @($script:self | Read-VmPower) | Where-Object Zone -eq 'package-0'
        $joules = $second.EnergyJoules - $script:first.EnergyJoules
        $seconds = ($second.Timestamp - $script:first.Timestamp).TotalSeconds
        $second.Interval.TotalSeconds | Should -BeGreaterThan 0
        $second.Interval.TotalSeconds | Should -BeLessOrEqual ($seconds + 1e-6)
        $joules | Should -BeGreaterThan 0
        $joules | Should -BeLessOrEqual (50 + 1e-9) # the model never gives more than the zone's increase
        $second.Watts | Should -BeGreaterThan 0
        [math]::Abs($second.Watts - $joules / $second.Interval.TotalSeconds) | Should -BeLessThan 1e-6

        # Nothing added since: exactly no watts (idle is 0 W for this zone), energy kept.
        $third = @($script:self | Read-VmPower) | Where-Object Zone -eq 'package-0'
        $third.Watts | Should -Be 0
        $third.EnergyJoules | Should -Be $second.EnergyJoules
    }

    It 'reads repeatedly with -Continuous, energy never going back and watts its increase per second' {
        $samples = @($script:self | Read-VmPower -Continuous -MaxSamples 4 -SampleInterval 0.3 | Where-Object Zone -eq 'psys')
        $samples.Count | Should -Be 4
        for ($i = 1; $i -lt $samples.Count; $i++) {
            $samples[$i].EnergyJoules | Should -BeGreaterOrEqual $samples[$i - 1].EnergyJoules
            $samples[$i].Interval | Should -Be ($samples[$i].Timestamp - $samples[$i - 1].Timestamp)
            $expected = ($samples[$i].EnergyJoules - $samples[$i - 1].EnergyJoules) / $samples[$i].Interval.TotalSeconds
            [math]::Abs($samples[$i].Watts - $expected) | Should -BeLessThan 1e-6
        }
    }

    It 'warns once per call, naming what is missing, on a host without any power source' {
        $empty = Join-Path $TestDrive 'no-power-sys'
        New-Item -ItemType Directory -Path $empty -Force | Out-Null
        $child = @'
$env:VMPROBE_SYSFS = $args[1]
Import-Module -Name $args[0] -Force -ErrorAction Stop
$self = [VmProbe.VmDomain]@{ Name = 'pester-nopower'; Uuid = [guid]::NewGuid(); Pid = $PID; Uri = 'process' }
$out = @($self | Read-VmPower -Continuous -MaxSamples 2 -SampleInterval 0.2 3>&1)
'samples=' + @($out | Where-Object { $_ -is [VmProbe.VmPowerSample] }).Count
$out | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { 'warning=' + $_.Message }
'@
        $script = Join-Path $TestDrive 'no-power.ps1'
        Set-Content -Path $script -Value $child
        $lines = @(& (Get-VmProbeTestPwsh) -NoProfile -File $script (Resolve-VmProbeManifest) $empty)
        $lines | Should -Contain 'samples=0'
        $warnings = @($lines | Where-Object { $_ -like 'warning=*' })
        $warnings.Count | Should -Be 1
        $warnings[0] | Should -Match 'no power source on this host'
        $warnings[0] | Should -Match 'powercap'
        $warnings[0] | Should -Match 'powermeter'
    }

    It 'formats as a table with watts' {
        $text = $script:self | Read-VmPower | Format-Table | Out-String
        $text | Should -Match 'Watts'
        $text | Should -Match 'package-0'
    }
}

Describe 'Read-VmHostStat power' {
    It 'includes host energy per zone and the platform meter' {
        $samples = @(Read-VmHostStat)
        $energy = @($samples | Where-Object Family -eq 'host_energy_joules_total')
        @($energy | ForEach-Object { $_.Labels['zone'] } | Sort-Object) | Should -Be @('dram-0', 'package-0', 'psys')
        $energy | ForEach-Object { $_.Labels['source'] | Should -Be 'powercap' }
        ($energy | Where-Object { $_.Labels['zone'] -eq 'package-0' }).Value | Should -Be ($script:packageMicrojoules / 1e6)
        ($energy | Where-Object { $_.Labels['zone'] -eq 'dram-0' }).Value | Should -Be 0.5
        ($samples | Where-Object Family -eq 'host_power_watts').Value | Should -Be 231.5
        ($samples | Where-Object Family -eq 'host_cpu_seconds_total') | Should -Not -BeNullOrEmpty
    }

    It 'gives the energy a rate in watts: the joules added over the seconds between readings' {
        $samples = @(Read-VmHostStat -MaxSamples 2 -SampleInterval 1 | Where-Object Family -eq 'host_energy_joules_total')
        $samples.Count | Should -Be 6
        $later = @($samples | Select-Object -Last 3)
        ($later | Where-Object { $_.Labels['zone'] -eq 'package-0' }).Rate | Should -Be 0
        # psys climbs at 40 W of wall-clock time, written every 10 ms (a thread that may lag on a busy machine).
        ($later | Where-Object { $_.Labels['zone'] -eq 'psys' }).Rate | Should -BeGreaterThan ($script:psysWatts * 0.7)
        ($later | Where-Object { $_.Labels['zone'] -eq 'psys' }).Rate | Should -BeLessThan ($script:psysWatts * 1.3)
    }
}
