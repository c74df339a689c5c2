#Requires -Modules Pester
# Pester tests of Open-VmProbe, Invoke-VmProbeCycle and Close-VmProbe: the runner's loop, stepped from PowerShell.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'Open-VmProbe, Invoke-VmProbeCycle, Close-VmProbe' {
    It 'are exported by the module' {
        foreach ($name in 'Open-VmProbe', 'Invoke-VmProbeCycle', 'Close-VmProbe') {
            (Get-Command -Name $name -Module VmProbe -ErrorAction Stop).CommandType | Should -Be 'Cmdlet'
        }
    }

    It 'refuses a config that does not exist, naming the file' {
        $missing = Join-Path $TestDrive 'no-such.yaml'
        { Open-VmProbe -ConfigPath $missing -ErrorAction Stop } | Should -Throw -ExpectedMessage "*no-such.yaml*"
    }

    It 'opens the sources of the registry and steps one cycle per call on the delay grid' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        $probe = New-ProbeConfig -Name 'step' -Delay 300
        $session = Open-VmProbe -ConfigPath $probe.Config
        try {
            $session.Sources | Should -Be @('host', 'procfs', 'libvirt', 'perf', 'kvm', 'kvmexits', 'power')
            $session.Cycles | Should -Be 0
            $first = $session | Invoke-VmProbeCycle
            $second = $session | Invoke-VmProbeCycle
            $first.Cycle | Should -Be 1
            $second.Cycle | Should -Be 2
            $first.Exported | Should -BeTrue
            $first.Domains | Should -Be 1 # test:///default's one domain
            # Tick 1 after the prepare, tick 2 one delay later (the schedule is the engine's).
            ($second.Timestamp - $first.Timestamp).TotalMilliseconds | Should -BeGreaterOrEqual 250
            (Get-Content -LiteralPath $probe.Endpoint -Raw) | Should -Match '(?m)^vmprobe_probe_info\{version="[^"]+"\} 1$'
        }
        finally {
            $session | Close-VmProbe
        }

        $session.IsOpen | Should -BeFalse
    }

    It 'writes an error for a closed probe and none for a second Close' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        $session = Open-VmProbe -ConfigPath (New-ProbeConfig -Name 'closed' -Delay 300).Config
        $session | Close-VmProbe
        { $session | Close-VmProbe -ErrorAction Stop } | Should -Not -Throw
        $session | Invoke-VmProbeCycle -ErrorAction SilentlyContinue -ErrorVariable stepErrors
        $stepErrors.Count | Should -Be 1
        $stepErrors[0].FullyQualifiedErrorId | Should -BeLike 'vmprobe,not_runnable*'
    }
}

Describe 'Remove-Module' {
    It 'releases every probe and perf session of the runspace' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        # A runspace of its own so that removing the module there leaves this file's import alone.
        $shell = [powershell]::Create()
        try {
            $config = (New-ProbeConfig -Name 'removed' -Delay 300).Config
            $null = $shell.AddScript({
                param($Module, $Config)
                Import-Module -Name $Module
                $count = { @(Get-ChildItem -LiteralPath /proc/self/fd).Count }
                $probe = Open-VmProbe -ConfigPath $Config
                $null = $probe | Invoke-VmProbeCycle
                # The first import and cycle load assemblies and libraries that stay: measure from here.
                $probe | Close-VmProbe
                $before = & $count
                $probe = Open-VmProbe -ConfigPath $Config
                $null = $probe | Invoke-VmProbeCycle
                $session = Start-VmPerfSession -Event TaskClock -IncludeHost
                $held = & $count
                Remove-Module -Name VmProbe
                [pscustomobject]@{ Before = $before; Held = $held; After = & $count; ProbeOpen = $probe.IsOpen; SessionOpen = $session.IsOpen }
            }).AddArgument($modulePath).AddArgument($config)
            $result = $shell.Invoke()[0]
        }
        finally {
            $shell.Dispose()
        }

        $result.Held | Should -BeGreaterThan $result.Before
        $result.ProbeOpen | Should -BeFalse
        $result.SessionOpen | Should -BeFalse
        $result.After | Should -Be $result.Before
    }
}
