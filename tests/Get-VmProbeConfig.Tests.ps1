#Requires -Modules Pester
# Pester tests of Get-VmProbeConfig. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Get-VmProbeConfig' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Get-VmProbeConfig' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Get-VmProbeConfig'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'reads a YAML config' {
        $path = Join-Path $TestDrive 'config.yaml'
        Set-Content -LiteralPath $path -Value "prefix: testprobe`ndelay: 1000`nendpoint: $TestDrive/out.prom"
        $config = Get-VmProbeConfig -Path $path
        $config | Should -BeOfType ([VmProbe.Config.ProbeConfig])
        $config.Prefix | Should -Be 'testprobe'
        $config.DelayMs | Should -Be 1000
    }

    It 'reads the perf event lists and the enums' {
        $path = Join-Path $TestDrive 'events.yaml'
        Set-Content -LiteralPath $path -Value "perfsoftware:`n  - task-clock`nperftracepoint:`n  - sched:sched_switch`nattribution: cgroup`ndiscovery: process`npercpu: true`nurl: test:///default"
        $config = Get-VmProbeConfig -Path $path
        @($config.Events | ForEach-Object { $_.CanonicalName }) | Should -Be @('task_clock', 'sched:sched_switch')
        $config.Attribution | Should -Be ([VmProbe.Config.PerfAttribution]::Cgroup)
        $config.Discovery | Should -Be ([VmProbe.Config.DomainDiscovery]::Process)
        $config.PerCpu | Should -BeTrue
        $config.Url | Should -Be 'test:///default'
    }

    It 'names the key of a bad value' {
        $path = Join-Path $TestDrive 'bad.yaml'
        Set-Content -LiteralPath $path -Value "delay: soon"
        { Get-VmProbeConfig -Path $path -ErrorAction Stop } | Should -Throw -ExpectedMessage '*delay*'
    }

    It 'stops on a missing file' {
        { Get-VmProbeConfig -Path (Join-Path $TestDrive 'missing.yaml') -ErrorAction Stop } | Should -Throw
    }
}
