#Requires -Modules Pester
# Get-Help in the real shell shows each exported command's docs/en-US page: synopsis, description, every parameter's
# description and every example's code, read from the MAML that build.ps1 -Task Docs always writes (platyPS or
# build/ConvertTo-MamlHelp.ps1). The page is read here with plain regexes, independently of that converter.

BeforeDiscovery {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $manifestData = Import-PowerShellDataFile -Path (Join-Path $repoRoot 'VmProbe.psd1')
    $normalize = { param([string] $Text) ($Text -replace '\s+', ' ').Trim() }
    $helpPages = foreach ($name in @($manifestData.CmdletsToExport) + @($manifestData.FunctionsToExport)) {
        $page = (Get-Content -LiteralPath (Join-Path $repoRoot "docs/en-US/$name.md") -Raw) -replace "`r`n", "`n"
        $section = { param([string] $Title) [regex]::Match($page, "(?ms)^## $Title[ \t]*\n(.*?)(?=^## |\z)").Groups[1].Value }
        $parameters = foreach ($match in [regex]::Matches((& $section 'PARAMETERS'), '(?ms)^### -(\w+)[ \t]*\n(.*?)^```yaml')) {
            @{ Parameter = $match.Groups[1].Value; Expected = & $normalize $match.Groups[2].Value }
        }
        $examples = foreach ($match in [regex]::Matches((& $section 'EXAMPLES'), '(?ms)^### (.*?)[ \t]*\n.*?^```powershell[ \t]*\n(.*?)^```')) {
            @{ Title = $match.Groups[1].Value; Code = $match.Groups[2].Value.Trim() }
        }
        @{
            Name        = $name
            Synopsis    = & $normalize (& $section 'SYNOPSIS')
            Description = & $normalize (& $section 'DESCRIPTION')
            Parameters  = @($parameters)
            Examples    = @($examples)
        }
    }
}

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    $module = Import-Module -Name $modulePath -Force -PassThru -ErrorAction Stop
    function ConvertTo-OneLine([string] $Text) { ($Text -replace '\s+', ' ').Trim() }
}

AfterAll {
    Remove-Module -Name VmProbe -Force -ErrorAction Ignore
}

Describe 'Get-Help <Name> -Full' -ForEach $helpPages {
    BeforeAll {
        $help = Get-Help -Name $Name -Full -ErrorAction Stop
    }

    It 'has a page with a synopsis, a description, examples and every parameter to compare' {
        # Guards the regexes above: an empty or short expectation would make the checks below vacuous.
        $Synopsis | Should -Not -BeNullOrEmpty
        $Description | Should -Not -BeNullOrEmpty
        $Examples.Count | Should -BeGreaterThan 0
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $own = @((Get-Command -Name $Name -Module VmProbe).Parameters.Keys | Where-Object { $_ -notin $common -or $_ -in 'WhatIf', 'Confirm' } | Sort-Object)
        @($Parameters | ForEach-Object { $_.Parameter } | Sort-Object) | Should -Be $own
    }

    It 'shows the synopsis of its page' {
        # Without MAML, Get-Help answers with the syntax line as synopsis: only the page's text proves the file was read.
        ConvertTo-OneLine $help.Synopsis | Should -BeExactly $Synopsis
    }

    It 'shows the description of its page' {
        ConvertTo-OneLine (@($help.description | ForEach-Object { $_.Text }) -join ' ') | Should -BeExactly $Description
    }

    It 'describes -<Parameter> as its page does' -ForEach $Parameters {
        $shown = @($help.parameters.parameter | Where-Object { $_.name -eq $Parameter })
        $shown.Count | Should -Be 1 -Because "Get-Help $Name -Full lists -$Parameter once"
        ConvertTo-OneLine (@($shown[0].description | ForEach-Object { $_.Text }) -join ' ') | Should -BeExactly $Expected
    }

    It 'shows the code of <Title>' -ForEach $Examples {
        $codes = @($help.examples.example | ForEach-Object { "$($_.code)".Trim() })
        $codes | Should -Contain $Code
    }

    It 'renders the synopsis and every parameter name in its text' {
        $text = ConvertTo-OneLine (Get-Help -Name $Name -Full | Out-String -Width 4096)
        $text | Should -BeLike "*$([WildcardPattern]::Escape($Synopsis))*"
        foreach ($parameter in $Parameters) {
            $text | Should -BeLike "*-$($parameter.Parameter) *"
        }
    }
}

Describe 'about_VmProbe' {
    It 'is shown by Get-Help about_VmProbe' {
        $about = Get-Help -Name about_VmProbe -ErrorAction Stop | Out-String
        $about | Should -Match '(?m)^SHORT DESCRIPTION'
        $about | Should -BeLike '*perf_event, libvirt and procfs metrics of a Linux KVM host*'
        $about | Should -Not -Match '(?m)^# '
    }

    It 'sits beside the MAML files in the module''s en-US folder' {
        foreach ($file in 'about_VmProbe.help.txt', 'VmProbe.dll-Help.xml', 'VmProbe-help.xml', 'bin/en-US/VmProbe.dll-Help.xml') {
            $path = if ($file -like 'bin/*') { Join-Path $module.ModuleBase $file } else { Join-Path $module.ModuleBase "en-US/$file" }
            $path | Should -Exist
        }
    }
}
