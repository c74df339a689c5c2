#Requires -Modules Pester
# Module-level checks: manifest, exports, help. Run by build.ps1 -Task Test (VMPROBE_MODULE_PATH points at the published manifest).

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

    It 'has the cmdlet MAML help beside the manifest and beside bin/VmProbe.dll when the help is built' {
        # Get-Help looks for VmProbe.dll-Help.xml under the cmdlets' ModuleBase, which for a nested binary module may be
        # the manifest folder or bin/: build.ps1 puts it in both culture folders.
        $base = $script:module.ModuleBase
        if (-not (Test-Path -LiteralPath (Join-Path $base 'en-US/VmProbe.dll-Help.xml') -PathType Leaf)) {
            Set-ItResult -Skipped -Because "$base/en-US holds no MAML help (platyPS was not installed when the module was packaged)"
            return
        }

        Join-Path $base 'bin/en-US/VmProbe.dll-Help.xml' | Should -Exist
        Join-Path $base 'en-US/VmProbe-help.xml' | Should -Exist
    }
}

Describe 'Help of <_>' -ForEach $script:exportedCommands {
    BeforeAll {
        $commandName = $_
        $command = Get-Command -Name $commandName -Module VmProbe
        $page = Get-Content -LiteralPath (Join-Path $script:docs "$commandName.md") -Raw
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        # platyPS writes each page into the MAML file its front matter names (VmProbe.dll-Help.xml or VmProbe-help.xml).
        $mamlName = [regex]::Match($page, '(?m)^external help file:[ \t]*(\S+)[ \t]*\r?$').Groups[1].Value
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

    It 'shows the SYNOPSIS of its markdown page in Get-Help when the MAML help is built' {
        # Decided here, not with -Skip: the module folder is known only after BeforeAll, which runs after Discovery.
        $mamlName | Should -Not -BeNullOrEmpty -Because "the front matter of $commandName.md names its external help file"
        $maml = Join-Path $script:module.ModuleBase "en-US/$mamlName"
        if (-not (Test-Path -LiteralPath $maml -PathType Leaf)) {
            Set-ItResult -Skipped -Because "$maml was not built (platyPS was not installed when the module was packaged)"
            return
        }

        # Without a MAML file Get-Help still answers, with the syntax line as synopsis: only the page's text proves the file was found.
        $expected = [regex]::Match($page, '(?ms)^## SYNOPSIS[ \t]*\r?\n(.*?)^## ').Groups[1].Value.Trim() -replace '\s+', ' '
        $expected | Should -Not -BeNullOrEmpty -Because "$commandName.md has a ## SYNOPSIS section"
        $actual = "$((Get-Help -Name $commandName).Synopsis)".Trim() -replace '\s+', ' '
        $actual | Should -Be $expected
    }
}
