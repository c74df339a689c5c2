#Requires -Modules Pester
# Pester tests of Read-VmDomainStat. Run by build.ps1 -Task Test on a host with pwsh 7.4; functional cases need root or libvirt and skip otherwise.

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

Describe 'Read-VmDomainStat' {
    It 'is exported by the module' {
        $command = Get-Command -Name 'Read-VmDomainStat' -Module VmProbe -ErrorAction Stop
        $command.Name | Should -Be 'Read-VmDomainStat'
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'reads the state of the libvirt test domain' -Skip:(-not $libvirtPresent) {
        $samples = @(Get-VmDomain -Uri 'test:///default' | Read-VmDomainStat -Uri 'test:///default')
        $samples.Count | Should -BeGreaterThan 0
        $samples[0] | Should -BeOfType ([VmProbe.VmStatSample])
        $samples[0].Domain | Should -Be 'test'
    }

    It 'reads a domain named by a [pscustomobject]' -Skip:(-not $libvirtPresent) {
        # The data of a [pscustomobject] is in note properties of its PSObject, not on its (empty) base object.
        $samples = @([pscustomobject]@{ Name = 'test' } | Read-VmDomainStat -Uri 'test:///default' -ErrorAction Stop)
        $samples.Count | Should -BeGreaterThan 0
        $samples | ForEach-Object { $_.Domain | Should -Be 'test' }
    }

    It 'reads a domain named by a CSV row' -Skip:(-not $libvirtPresent) {
        $row = @('Name,Uuid', 'test,') | ConvertFrom-Csv
        $samples = @($row | Read-VmDomainStat -Uri 'test:///default' -ErrorAction Stop)
        $samples.Count | Should -BeGreaterThan 0
        $samples | ForEach-Object { $_.Domain | Should -Be 'test' }
    }

    It 'reads a domain given by the Uuid column of a CSV row' -Skip:(-not $libvirtPresent) {
        $row = @('Uuid', '6695eb01-f6a4-8304-79aa-97f2502e193f') | ConvertFrom-Csv
        $samples = @(Read-VmDomainStat -Domain $row -Uri 'test:///default' -ErrorAction Stop)
        $samples.Count | Should -BeGreaterThan 0
        $samples | ForEach-Object { $_.Domain | Should -Be 'test' }
    }

    It 'looks the Name of a [pscustomobject] up rather than reading every domain' -Skip:(-not $libvirtPresent) {
        $samples = @([pscustomobject]@{ Name = 'no-such-domain' } | Read-VmDomainStat -Uri 'test:///default' -ErrorVariable errors -ErrorAction SilentlyContinue)
        $samples.Count | Should -Be 0
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'domain,not_found*'
        $errors[0].Exception.Message | Should -BeLike "*'no-such-domain'*"
    }
}
