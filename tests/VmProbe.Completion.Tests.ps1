#Requires -Modules Pester
# Tab completion as the shell asks for it: TabExpansion2 on a command line, as PSReadLine calls it on Tab. What is
# already typed (-Uri, -All) reaches the completers as fakeBoundParameters.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop

    # Only the completer's own results: when a completer returns nothing, PowerShell falls back to file names
    # (ProviderItem results), which are not ours to test.
    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches | Where-Object { $_.ResultType -eq 'ParameterValue' })
    }
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    # $libvirtPresent for the -Skip: arguments below.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'Tab completion of -Event' {
    It 'completes <Line> with task_clock' -ForEach @(
        @{ Line = 'Read-VmPerfCounter -IncludeHost -Event task_c' }
        @{ Line = 'Start-VmPerfSession -IncludeHost -Event TaskCl' }
        @{ Line = 'Get-VmPerfEvent -Name task-cl' }
    ) {
        @(Get-Completion $Line | ForEach-Object CompletionText) | Should -Contain 'task_clock'
    }

    It 'completes a tracepoint of the mounted tracefs after subsystem:' -Skip:(-not $isRoot) {
        if (-not (Test-Path -LiteralPath /sys/kernel/tracing/events)) {
            # The engine mounts tracefs itself when it resolves a tracepoint as root; completion only reads a mounted one.
            mount -t tracefs nodev /sys/kernel/tracing
        }

        $names = @(Get-Completion 'Read-VmPerfCounter -IncludeHost -Event sched:sched_sw' | ForEach-Object CompletionText)
        $names | Should -Contain 'sched:sched_switch'
        $names | Should -Not -Contain 'sched:sched_wakeup'
        @(Get-Completion 'Start-VmPerfSession -IncludeHost -Event no_such_subsystem:x').Count | Should -Be 0
    }

    It 'offers only names that start with the typed word' {
        $names = @(Get-Completion 'Read-VmPerfCounter -IncludeHost -Event context' | ForEach-Object CompletionText)
        $names | Should -Contain 'context_switches'
        $names | Should -Not -Contain 'task_clock'
    }
}

Describe 'Tab completion of Get-VmDomain -Name' {
    It 'lists the domain of test:///default when -Uri is on the line' -Skip:(-not $libvirtPresent) {
        @(Get-Completion "Get-VmDomain -Uri 'test:///default' -Name " | ForEach-Object CompletionText) | Should -Be @('test')
        @(Get-Completion "Get-VmDomain -Uri 'test:///default' -Name T" | ForEach-Object CompletionText) | Should -Be @('test')
        @(Get-Completion "Get-VmDomain -Uri 'test:///default' -Name x").Count | Should -Be 0
    }

    It 'lists the domains of a test driver node file, quoting a name with spaces' -Skip:(-not $libvirtPresent) {
        # Uniquely named domains of our own: a real libvirtd may hold others, the test driver holds only these.
        $tag = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $node = Join-Path $TestDrive "node-$tag.xml"
        Set-Content -LiteralPath $node -Value @"
<node>
  <domain type='test'><name>vmprobe-cmpl-$tag</name><memory>8192</memory><os><type>hvm</type></os></domain>
  <domain type='test'><name>vmprobe cmpl $tag</name><memory>8192</memory><os><type>hvm</type></os></domain>
</node>
"@
        $results = Get-Completion "Get-VmDomain -Uri 'test://$node' -Name vmprobe"
        @($results | ForEach-Object CompletionText) | Should -Be @("'vmprobe cmpl $tag'", "vmprobe-cmpl-$tag")
        @($results | ForEach-Object ListItemText) | Should -Be @("vmprobe cmpl $tag", "vmprobe-cmpl-$tag")
    }

    It 'completes nothing, without an error, when the URI cannot be opened' -Skip:(-not $libvirtPresent) {
        $Error.Clear()
        $missing = Join-Path $TestDrive 'no-such-node.xml'
        @(Get-Completion "Get-VmDomain -Uri 'test://$missing' -Name ").Count | Should -Be 0
        $Error.Count | Should -Be 0
    }
}
