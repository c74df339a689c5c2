#Requires -Modules Pester
# Pester tests of the readers' default Format-Table views (VmProbe.Format.ps1xml over SampleDisplay), in a real pwsh:
# they read like a terminal view (one block per reading under its time; domain, vCPU, metric, value and rate with
# units). The live-domain cases need root and a libvirtd answering at qemu:///system, and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop

    # The lines of the default table, as an 80-column terminal shows it.
    function Get-TableLine([object[]] $Sample) {
        , @(($Sample | Format-Table | Out-String -Width 80) -split "`n" | ForEach-Object { $_.TrimEnd() })
    }

    # The rate cell SampleDisplay gives a share of a CPU, for comparing the table with the objects.
    function Format-Share([double] $Ratio) {
        ($Ratio * 100).ToString('0.0', [cultureinfo]::InvariantCulture) + '%'
    }
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    # $isRoot for the -Skip: argument below.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'The default table of Read-VmHostStat' {
    BeforeAll {
        $samples = @(Read-VmHostStat -MaxSamples 2 -SampleInterval 0.3)
        $lines = Get-TableLine $samples
    }

    It 'has one block per reading under its time, with the terminal columns' {
        # Readings within one second share a time and so a block.
        $times = @($samples | ForEach-Object { $_.Timestamp.ToString('HH:mm:ss') } | Select-Object -Unique)
        @($lines | Where-Object { $_ -match '^\s+Time: \d\d:\d\d:\d\d$' }).Count | Should -Be $times.Count
        @($lines | Where-Object { $_ -match '^Domain\s+vCPU\s+Metric\s+Value\s+Rate$' }).Count | Should -Be $times.Count
    }

    It 'shows CPU time per second as the share of a CPU, the number the object holds' {
        $user = $samples | Where-Object { $_.Family -eq 'host_cpu_seconds_total' -and $_.Device -eq 'user' -and $null -ne $_.Rate }
        $user | Should -Not -BeNullOrEmpty
        $expected = '^\(host\)\s+cpu user\s+[\d,]+\.\d\d s\s+' + [regex]::Escape((Format-Share $user.Rate)) + ' cpu$'
        @($lines -match $expected).Count | Should -Be 1 -Because ($lines -join "`n")
    }

    It 'shows memory in binary units and a gauge without a rate' {
        $memory = @($samples | Where-Object Family -EQ 'host_memory_total_bytes')
        @($lines -match '^\(host\)\s+memory_total\s+\d+\.\d (MiB|GiB|TiB)$').Count | Should -Be $memory.Count -Because ($lines -join "`n")
        @($lines -match '^\(host\)\s+load1\s+[\d.]+$').Count | Should -BeGreaterThan 0
    }

    It 'fits an 80-column terminal' {
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
    }

    It 'keeps the raw numbers in the Raw view' {
        $raw = $samples | Format-Table -View Raw | Out-String -Width 200
        $raw | Should -Match 'Interval'
        $raw | Should -Match 'Rate/s'
        $raw | Should -Match 'cpu_seconds_total'
    }
}

Describe 'The default tables of a running domain' -Skip:(-not $isRoot) {
    BeforeAll {
        # A transient TCG domain whose vCPU spins (boot sector 'jmp $'), as the xunit tests' LibvirtdHost starts them.
        $skipReason = $null
        # 20 characters: the Domain column's width, so the table shows the name whole.
        $name = 'vmprobe-test-f' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $image = "/var/lib/libvirt/images/$name.img"
        $test = New-SpinningTestDomain -Name $name -Image $image -XmlPath (Join-Path $TestDrive "$name.xml")
        $virsh = $test.Virsh
        $skipReason = $test.SkipReason
        if (-not $skipReason) {
            $domain = Get-VmDomain -Uri qemu:///system | Where-Object Name -EQ $name
            Start-Sleep -Seconds 2 # past the BIOS, into the boot sector's loop
        }
    }

    AfterAll {
        if ($virsh) {
            $null = & $virsh.Source -c qemu:///system destroy $name 2>&1
        }

        # -Force: libvirt hands the image to libvirt-qemu, and PowerShell calls a file it does not own read-only.
        Remove-Item -LiteralPath $image -Force -ErrorAction Ignore
    }

    It 'Read-VmSchedStat shows the spinning vCPU''s CPU and steal, which together fill its time' {
        if ($skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }

        $samples = @($domain | Read-VmSchedStat -MaxSamples 2 -SampleInterval 1)
        $lines = Get-TableLine $samples
        $pattern = '^' + [regex]::Escape($name) + '\s+0\s+sched_(?<m>run|wait)\s+[\d,]+\.\d\d s\s+(?<p>[\d.]+)% (?<w>cpu|steal)$'
        $rows = @($lines | ForEach-Object { if ($_ -match $pattern) { [pscustomobject]@{ Metric = $Matches.m; Share = [double]$Matches.p; Word = $Matches.w } } })
        $rows.Count | Should -Be 2 -Because ($lines -join "`n")
        ($rows | Where-Object Metric -EQ 'run').Word | Should -Be 'cpu'
        ($rows | Where-Object Metric -EQ 'wait').Word | Should -Be 'steal'
        # A spinning vCPU is runnable all the time: running or waiting for a host CPU (QEMU's own locks take some).
        ($rows | Measure-Object -Property Share -Sum).Sum | Should -BeGreaterThan 50 -Because ($lines -join "`n")
        ($rows | Measure-Object -Property Share -Sum).Sum | Should -BeLessThan 130
    }

    It 'Read-VmDomainStat shows memory in MiB and the floppy by its target' {
        if ($skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }

        $lines = Get-TableLine @($domain | Read-VmDomainStat -Uri qemu:///system -MaxSamples 2 -SampleInterval 0.5)
        @($lines -match ('^' + [regex]::Escape($name) + '\s+memory_rss\s+[\d.]+ MiB$')).Count | Should -Be 2
        @($lines -match ('^' + [regex]::Escape($name) + '\s+block_read fda\s+\d+(\.\d)? [KMG]?i?B\s+[\d.]+ [KMG]?i?B/s$')).Count | Should -Be 1
    }

    It 'Read-VmPerfCounter shows task-clock as CPU share and other events per second' {
        if ($skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }

        $session = Start-VmPerfSession -Domain $domain -Event 'task-clock', 'context-switches'
        try {
            $lines = Get-TableLine @($session | Read-VmPerfCounter -MaxSamples 2 -SampleInterval 1)
        }
        finally {
            $session | Stop-VmPerfSession
        }

        @($lines -match '^Domain\s+vCPU\s+Event\s+Total\s+Rate\s+Scaled$').Count | Should -BeGreaterThan 0
        @($lines -match ('^' + [regex]::Escape($name) + '\s+task_clock\s+[\d,]+\.\d\d s\s+[\d.]+% cpu$')).Count | Should -Be 1
        @($lines -match ('^' + [regex]::Escape($name) + '\s+context_switches\s+[\d,]+\s+[\d,.]+/s$')).Count | Should -Be 1
    }
}
