#Requires -Modules Pester
# Pester tests of ConvertTo-PromText. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'ConvertTo-PromText' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'ConvertTo-PromText' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'ConvertTo-PromText'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'renders a perf sample as an exposition family' {
        $sample = [VmProbe.VmPerfSample]@{ Scope = 'Host'; Event = 'task_clock'; Value = 42 }
        $text = $sample | ConvertTo-PromText -Prefix 'vmprobe'
        $text | Should -Match '(?m)^# TYPE vmprobe_host_perf_events_total counter$'
        $text | Should -Match 'vmprobe_host_perf_events_total\{event="task_clock"\} 42'
    }

    It 'reports objects that are not samples' {
        'text' | ConvertTo-PromText -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'sample,not_vmprobe*'
    }
}
