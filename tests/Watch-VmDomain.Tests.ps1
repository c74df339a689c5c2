#Requires -Modules Pester
# Pester tests of Watch-VmDomain: vmprobe top's rows from the runner's loop, one per VM per interval.

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

Describe 'Watch-VmDomain' {
    It 'refuses a config that does not exist, naming the file' {
        $missing = Join-Path $TestDrive 'no-such.yaml'
        { Watch-VmDomain -ConfigPath $missing -MaxSamples 1 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*no-such.yaml*'
    }

}

Describe 'Watch-VmDomain on a running domain' -Skip:(-not $isRoot) {
    BeforeAll {
        $name = 'vmprobe-test-w' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $image = "/var/lib/libvirt/images/$name.img"
        $test = New-SpinningTestDomain -Name $name -Image $image -XmlPath (Join-Path $TestDrive "$name.xml")
        $virsh = $test.Virsh
        $skipReason = $test.SkipReason
        $endpoint = Join-Path $TestDrive 'watch/vmprobe.prom'
        $config = Join-Path $TestDrive 'watch.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: qemu:///system`ndelay: 1000`nperfsoftware: [task-clock]"
    }

    AfterAll {
        if ($virsh) {
            $null = & $virsh.Source -c qemu:///system destroy $name 2>&1
        }

        Remove-Item -LiteralPath $image -Force -ErrorAction Ignore
    }

    It 'writes one row per interval for the VM -Name selects, with its CPU, stamped, and no textfile' {
        if ($skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }

        # Other domains may run on this libvirtd: -Name keeps this test's own.
        $rows = @(Watch-VmDomain -ConfigPath $config -Name $name -MaxSamples 3)
        $rows.Count | Should -Be 3
        $rows | ForEach-Object { $_.Name | Should -Be $name }
        $rows[0].PSObject.TypeNames | Should -Contain 'VmProbe.Views.VmViewRow'
        ($rows[2].Timestamp - $rows[1].Timestamp).TotalMilliseconds | Should -BeGreaterOrEqual 900
        # A spinning vCPU runs or waits for a host CPU all the time: CPU plus steal near one core on a busy host.
        $busiest = ($rows | ForEach-Object { $_.CpuCores + $_.StealRatio } | Measure-Object -Maximum).Maximum
        $busiest | Should -BeGreaterThan 0.5
        $busiest | Should -BeLessThan 1.6
        $rows[-1].RssBytes | Should -BeGreaterThan 1MB
        Test-Path -LiteralPath $endpoint | Should -BeFalse
    }

    It 'keeps only the VMs -Name matches, and its table reads like top' {
        if ($skipReason) {
            Set-ItResult -Skipped -Because $skipReason
            return
        }

        @(Watch-VmDomain -ConfigPath $config -MaxSamples 1 -Name 'vmprobe-no-such-vm*').Count | Should -Be 0
        $table = Watch-VmDomain -ConfigPath $config -MaxSamples 1 -Name ($name.ToUpperInvariant()) | Format-Table | Out-String -Width 140
        $table | Should -Match '(?m)^Name\s+CPU\s+Steal%\s+Guest\s+Exits/s'
        $table | Should -Match ('(?m)^' + [regex]::Escape($name) + '\s+\d+\.\d\d\s+\d+\.\d%')
        $table | Should -Match 'Time: \d\d:\d\d:\d\d'
    }
}
