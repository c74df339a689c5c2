#Requires -Modules Pester
# Pester tests of Get-VmDomain. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Get-VmDomain' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Get-VmDomain' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Get-VmDomain'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'returns the running domain of the libvirt test driver' -Skip:(-not $libvirtPresent) {
        $domain = Get-VmDomain -Uri 'test:///default' -Name 'test'
        $domain | Should -BeOfType ([VmProbe.VmDomain])
        $domain.Name | Should -Be 'test'
        $domain.State | Should -Be ([VmProbe.VmDomainState]::Running)
    }

    It 'matches names with wildcards' -Skip:(-not $libvirtPresent) {
        @(Get-VmDomain -Uri 'test:///default' -Name 'TE*').Name | Should -Contain 'test'
    }

    It 'reports an unknown name as a non-terminating error' -Skip:(-not $libvirtPresent) {
        $result = Get-VmDomain -Uri 'test:///default' -Name 'no-such-domain' -ErrorVariable errors -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'domain,not_found*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'imports without libvirt and names libvirt.so.0 and VMPROBE_LIBVIRT_PATH at first use' -Skip:(-not $IsLinux) {
        # A child pwsh: the libvirt resolver is process-wide, so the missing library must be set before import.
        $pwsh = Get-VmProbeTestPwsh
        $script = "Import-Module -Name '$modulePath' -ErrorAction Stop; 'imported'; Get-VmDomain -Uri 'test:///default' *>&1 | ForEach-Object { [string]`$_ }"
        $saved = $env:VMPROBE_LIBVIRT_PATH
        try {
            $env:VMPROBE_LIBVIRT_PATH = '/nonexistent/libvirt.so.0'
            $output = & $pwsh -NoProfile -NonInteractive -Command $script 2>&1 | ForEach-Object { [string]$_ }
        }
        finally {
            $env:VMPROBE_LIBVIRT_PATH = $saved
        }
        $output | Should -Contain 'imported'
        $explaining = @($output | Where-Object { $_ -like '*VMPROBE_LIBVIRT_PATH=/nonexistent/libvirt.so.0*' })
        $explaining.Count | Should -Be 1
        $explaining[0] | Should -BeLike '*libvirt.so.0*'
        ($output -join "`n") | Should -Not -BeLike '*DllNotFoundException*'
        ($output -join "`n") | Should -Not -BeLike '*TypeInitializationException*'
    }
}
