#Requires -Modules Pester
# Pester tests of Read-VmPower and of the power part of Read-VmHostStat, in a real pwsh. This machine has no energy
# meter: a sysfs tree in TestDrive, named by VMPROBE_SYSFS, stands in for an Intel host's powercap zone, and a thread
# job makes its counter climb faster and faster (so that the power rises above the idle estimate). The domain is this
# pwsh process itself, named by pid (its threads' CPU time is what the model divides by).

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $script:sysfs = Join-Path $TestDrive 'sys'
    $zone = Join-Path $script:sysfs 'class/powercap/intel-rapl:0'
    New-Item -ItemType Directory -Path $zone -Force | Out-Null
    Set-Content -Path (Join-Path $zone 'name') -Value 'package-0'
    Set-Content -Path (Join-Path $zone 'max_energy_range_uj') -Value '262143328850'
    Set-Content -Path (Join-Path $zone 'energy_uj') -Value '1000000'
    $meter = Join-Path $script:sysfs 'class/hwmon/hwmon0'
    New-Item -ItemType Directory -Path $meter -Force | Out-Null
    Set-Content -Path (Join-Path $meter 'name') -Value 'power_meter'
    Set-Content -Path (Join-Path $meter 'power1_average') -Value '231500000'
    $script:previousSysfs = $env:VMPROBE_SYSFS
    $env:VMPROBE_SYSFS = $script:sysfs

    $script:climb = Start-ThreadJob -ArgumentList (Join-Path $zone 'energy_uj') -ScriptBlock {
        param($file)
        [long] $energy = 1000000
        [long] $step = 1000
        while ($true) {
            $energy += $step
            $step += 5000
            # Whole file or nothing, as sysfs reads are: a truncated file mid-write would read as garbage.
            [System.IO.File]::WriteAllText("$file.tmp", "$energy`n")
            [System.IO.File]::Move("$file.tmp", $file, $true)
            Start-Sleep -Milliseconds 50
        }
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

    It 'gives the domain its energy per zone, with watts even on the first call' {
        $samples = @($script:self | Read-VmPower -SampleInterval 0.5)
        $samples.Count | Should -Be 1
        $samples[0].Domain | Should -Be 'pester-power'
        $samples[0].Zone | Should -Be 'package-0'
        $samples[0].Source | Should -Be 'powercap'
        $samples[0].Model | Should -Be 'cpu_time'
        $samples[0].Watts | Should -Not -BeNullOrEmpty
        $samples[0].Watts | Should -BeGreaterOrEqual 0
    }

    It 'reads repeatedly with -Continuous, energy never going back' {
        $samples = @($script:self | Read-VmPower -Continuous -MaxSamples 4 -SampleInterval 0.3)
        $samples.Count | Should -Be 4
        for ($i = 1; $i -lt $samples.Count; $i++) {
            $samples[$i].EnergyJoules | Should -BeGreaterOrEqual $samples[$i - 1].EnergyJoules
            $samples[$i].Interval.TotalSeconds | Should -BeGreaterThan 0
        }

        # This pwsh ran the pipeline and the thread job: over four readings it had CPU time and so energy.
        $samples[-1].EnergyJoules | Should -BeGreaterThan 0
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
        $energy.Count | Should -Be 1
        $energy[0].Labels['zone'] | Should -Be 'package-0'
        $energy[0].Labels['source'] | Should -Be 'powercap'
        ($samples | Where-Object Family -eq 'host_power_watts').Value | Should -Be 231.5
        ($samples | Where-Object Family -eq 'host_cpu_seconds_total') | Should -Not -BeNullOrEmpty
    }

    It 'gives the energy a rate in watts when read repeatedly' {
        $samples = @(Read-VmHostStat -MaxSamples 2 -SampleInterval 0.3 | Where-Object Family -eq 'host_energy_joules_total')
        $samples.Count | Should -Be 2
        $samples[1].Rate | Should -BeGreaterThan 0
    }
}
