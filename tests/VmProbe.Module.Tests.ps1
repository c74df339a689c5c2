#Requires -Modules Pester
# Module-level checks: manifest, exports, help pages (what Get-Help shows of them: VmProbe.Help.Tests.ps1). Run by build.ps1 -Task Test (VMPROBE_MODULE_PATH points at the published manifest).

BeforeDiscovery {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $manifestData = Import-PowerShellDataFile -Path (Join-Path $repoRoot 'VmProbe.psd1')
    $script:exportedCommands = @($manifestData.CmdletsToExport) + @($manifestData.FunctionsToExport)
}

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $script:manifestPath = Resolve-VmProbeManifest
    $script:module = Import-Module -Name $script:manifestPath -Force -PassThru -ErrorAction Stop
    $script:manifestData = Import-PowerShellDataFile -Path $script:manifestPath
    $script:docs = Join-Path $repoRoot 'docs/en-US'
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'VmProbe manifest' {
    It 'is a valid module manifest' {
        $info = Test-ModuleManifest -Path $script:manifestPath -ErrorAction Stop
        $info.Name | Should -Be 'VmProbe'
        $info.Version | Should -Be ([version] $script:manifestData.ModuleVersion)
    }

    It 'targets PowerShell 7.4 Core' {
        $script:manifestData.CompatiblePSEditions | Should -Be @('Core')
        [version] $script:manifestData.PowerShellVersion | Should -Be ([version] '7.4')
    }

    It 'exports exactly the cmdlets it lists' {
        $actual = @($script:module.ExportedCmdlets.Keys | Sort-Object)
        $actual | Should -Be @($script:manifestData.CmdletsToExport | Sort-Object)
    }

    It 'exports exactly the functions it lists' {
        @($script:module.ExportedFunctions.Keys | Sort-Object) | Should -Be @($script:manifestData.FunctionsToExport | Sort-Object)
    }

    It 'exports exactly the aliases it lists' {
        @($script:module.ExportedAliases.Keys | Sort-Object) | Should -Be @($script:manifestData.AliasesToExport | Sort-Object)
        (Get-Alias -Name Read-VmPerfCounters).ResolvedCommandName | Should -Be 'Read-VmPerfCounter'
    }

    It 'loads the format views' {
        $formats = Get-FormatData -TypeName 'VmProbe.*'
        $formats.TypeNames | Should -Contain 'VmProbe.VmDomain'
        $formats.TypeNames | Should -Contain 'VmProbe.VmPerfSample'
    }
}

Describe 'Help of <_>' -ForEach $script:exportedCommands {
    BeforeAll {
        $commandName = $_
        $command = Get-Command -Name $commandName -Module VmProbe
        $page = Get-Content -LiteralPath (Join-Path $script:docs "$commandName.md") -Raw
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    }

    It 'has a markdown help page with a synopsis and an example' {
        $page | Should -Match '## SYNOPSIS\r?\n\S'
        $page | Should -Match '### Example 1'
    }

    It 'documents every parameter' {
        $parameters = @($command.Parameters.Keys | Where-Object { $_ -notin $common -or $_ -in 'WhatIf', 'Confirm' } | Sort-Object)
        $documented = @([regex]::Matches($page, '(?m)^### -(\w+)\s*$') | ForEach-Object { $_.Groups[1].Value } | Sort-Object)
        $documented | Should -Be $parameters
    }
}
