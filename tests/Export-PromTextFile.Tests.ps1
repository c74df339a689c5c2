#Requires -Modules Pester
# Pester tests of Export-PromTextFile. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Export-PromTextFile' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Export-PromTextFile' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Export-PromTextFile'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'writes the whole pipeline once' {
        $path = Join-Path $TestDrive 'vmprobe.prom'
        $samples = 1..3 | ForEach-Object { [VmProbe.VmPerfSample]@{ Scope = 'Host'; Event = "event_$_"; Value = $_ } }
        $samples | Export-PromTextFile -Path $path
        $text = Get-Content -LiteralPath $path -Raw
        ([regex]::Matches($text, '(?m)^vmprobe_host_perf_events_total')).Count | Should -Be 3
        $text | Should -Match '\n$'
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.prom'
        [VmProbe.VmPerfSample]@{ Scope = 'Host'; Event = 'task_clock'; Value = 1 } | Export-PromTextFile -Path $path -WhatIf
        Test-Path -LiteralPath $path | Should -BeFalse
    }
}
