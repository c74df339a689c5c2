#Requires -Modules Pester
# Pester tests of Start-VmProbe. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    Import-Module -Name $modulePath -Force -ErrorAction Stop
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

BeforeDiscovery {
    # $isRoot and $libvirtPresent for the -Skip: arguments below.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

Describe 'Start-VmProbe' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Start-VmProbe' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Start-VmProbe'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'offers -Once and -AsJob' {
        $command = Get-Command -Name Start-VmProbe
        $command.CommandType | Should -Be 'Function'
        $command.Parameters.Keys | Should -Contain 'Once'
        $command.Parameters.Keys | Should -Contain 'AsJob'
    }

    It 'writes the endpoint once with -Once' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        $endpoint = Join-Path $TestDrive 'once.prom'
        $config = Join-Path $TestDrive 'config.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: test:///default`ndelay: 1000"
        Start-VmProbe -ConfigPath $config -Once
        Test-Path -LiteralPath $endpoint | Should -BeTrue
        [VmProbe.VmPerfSession]::Open | Should -BeNullOrEmpty
    }

    It 'runs one cycle as a job with -AsJob -Once' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        # The job imports the module by its manifest path in a thread job (or a child process): nothing may depend on
        # how pwsh was installed.
        $endpoint = Join-Path $TestDrive 'job.prom'
        $config = Join-Path $TestDrive 'job.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $endpoint`nurl: test:///default`ndelay: 1000"
        $job = Start-VmProbe -ConfigPath $config -Once -AsJob
        try {
            $job | Should -BeOfType ([System.Management.Automation.Job])
            # A bound, not a timing: a hung job must not hang the suite.
            $null = $job | Wait-Job -Timeout 300
            $job.State | Should -Be 'Completed' -Because ((@($job | Receive-Job -Keep 2>&1) | ForEach-Object { "$_" }) -join "`n")
            Get-Content -LiteralPath $endpoint -Raw | Should -Match '(?m)^vmprobe_'
        }
        finally {
            $job | Remove-Job -Force
        }
    }

    It 'reports an endpoint it cannot write as an error and does not stop there' -Skip:(-not ($isRoot -and $libvirtPresent)) {
        # A regular file where the endpoint's directory should be: Export-PromTextFile fails terminally every cycle.
        $blocker = Join-Path $TestDrive 'not-a-directory'
        Set-Content -LiteralPath $blocker -Value 'x'
        $config = Join-Path $TestDrive 'unwritable.yaml'
        Set-Content -LiteralPath $config -Value "endpoint: $blocker/once.prom`nurl: test:///default`ndelay: 1000"
        # Not wrapped in { } | Should -Not -Throw: -ErrorVariable must land in this scope. A throw fails the test anyway.
        Start-VmProbe -ConfigPath $config -Once -ErrorVariable probeErrors -ErrorAction SilentlyContinue
        # -ErrorVariable also collects the exceptions of the terminating errors caught inside the function
        # (CmdletInvocationException), which have no TargetObject: only the ErrorRecords are the reported errors.
        $records = @($probeErrors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $records.Count | Should -BeGreaterThan 0
        @($records | Where-Object { $_.FullyQualifiedErrorId -like 'textfile_open,*' }).Count | Should -BeGreaterThan 0
        (@($records | ForEach-Object { "$($_.TargetObject) $_" }) -join "`n") | Should -Match 'once\.prom'
        Test-Path -LiteralPath $blocker -PathType Leaf | Should -BeTrue
        [VmProbe.VmPerfSession]::Open | Should -BeNullOrEmpty
    }
}
