#Requires -Modules Pester
# Get-Help in the real shell shows each exported command's docs/en-US page: synopsis, description, every parameter's
# description and every example's code, read from the MAML that build.ps1 -Task Docs always writes (platyPS or
# build/ConvertTo-MamlHelp.ps1). The page is read here with plain regexes, independently of that converter.

BeforeDiscovery {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $manifestData = Import-PowerShellDataFile -Path (Join-Path $repoRoot 'VmProbe.psd1')
    $normalize = { param([string] $Text) ($Text -replace '\s+', ' ').Trim() }
    $helpPages = foreach ($name in @($manifestData.CmdletsToExport) + @($manifestData.FunctionsToExport)) {
        # A missing page must fail its own tests, not the Discovery of every other command's.
        $page = (Get-Content -LiteralPath (Join-Path $repoRoot "docs/en-US/$name.md") -Raw -ErrorAction Ignore) -replace "`r`n", "`n"
        $section = { param([string] $Title) [regex]::Match($page, "(?ms)^## $Title[ \t]*\n(.*?)(?=^## |\z)").Groups[1].Value }
        $parameters = foreach ($match in [regex]::Matches((& $section 'PARAMETERS'), '(?ms)^### -(\w+)[ \t]*\n(.*?)^```yaml')) {
            @{ Parameter = $match.Groups[1].Value; Expected = & $normalize $match.Groups[2].Value }
        }
        $examples = foreach ($match in [regex]::Matches((& $section 'EXAMPLES'), '(?ms)^### (.*?)[ \t]*\n.*?^```powershell[ \t]*\n(.*?)^```')) {
            @{ Title = $match.Groups[1].Value; Code = $match.Groups[2].Value.Trim() }
        }
        @{
            Name        = $name
            PagePath    = Join-Path $repoRoot "docs/en-US/$name.md"
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
        $PagePath | Should -Exist
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

Describe 'build/ConvertTo-MamlHelp.ps1' {
    BeforeAll {
        $converter = Join-Path $repoRoot 'build/ConvertTo-MamlHelp.ps1'
        # A page whose texts hold every character XML must escape. Single-quoted: the backticks are the fences.
        $template = @'
---
external help file: Test-Help.xml
Module Name: T
schema: 2.0.0
---

# Test-Thing

## SYNOPSIS
Tests <markup> & "quotes".

## SYNTAX

```
Test-Thing [-Limit] <Int32> [<CommonParameters>]
```

## DESCRIPTION
First & only <p>.

## EXAMPLES

### Example 1: Compare

```powershell
Test-Thing -Limit 1 | Where-Object { $_ -lt 2 -and $_ -gt 0 }
```

Remarks & <more>.

## PARAMETERS

### -Limit
Keeps a < b && c > "d" 'e'.

```yaml
Type: Int32
Parameter Sets: (All)
Aliases:

Required: True
Position: 0
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

## INPUTS

### None

## OUTPUTS

### System.Int32

## NOTES

## RELATED LINKS
'@
        function Convert-Page([string] $Name, [string] $Page) {
            $folder = Join-Path $TestDrive $Name
            $null = New-Item -ItemType Directory -Path $folder -Force
            Set-Content -LiteralPath (Join-Path $folder 'Test-Thing.md') -Value $Page
            & $converter -Path $folder -OutputPath (Join-Path $TestDrive "$Name-out") | Out-Null
            Join-Path $TestDrive "$Name-out"
        }
    }

    It 'escapes markup characters and keeps every text as written' {
        $out = Convert-Page -Name 'escape' -Page $template
        [xml] $maml = Get-Content -LiteralPath (Join-Path $out 'Test-Help.xml') -Raw
        $ns = [System.Xml.XmlNamespaceManager]::new($maml.NameTable)
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
        $ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
        $text = { param([string] $XPath) $maml.SelectSingleNode($XPath, $ns).InnerText }
        & $text '//command:details/maml:description/maml:para' | Should -BeExactly 'Tests <markup> & "quotes".'
        & $text '//command:command/maml:description/maml:para' | Should -BeExactly 'First & only <p>.'
        & $text '//command:parameters/command:parameter/maml:description/maml:para' | Should -BeExactly "Keeps a < b && c > `"d`" 'e'."
        & $text '//dev:code' | Should -BeExactly 'Test-Thing -Limit 1 | Where-Object { $_ -lt 2 -and $_ -gt 0 }'
        & $text '//dev:remarks/maml:para' | Should -BeExactly 'Remarks & <more>.'
        @($maml.SelectNodes('//command:syntaxItem/command:parameter/maml:name', $ns) | ForEach-Object InnerText) | Should -Be @('Limit')
    }

    It 'names the file and the section that is missing' {
        $page = $template -replace '(?s)## SYNOPSIS.*?(?=## SYNTAX)', ''
        { Convert-Page -Name 'nosynopsis' -Page $page } | Should -Throw -ExpectedMessage "*Test-Thing.md: no '## SYNOPSIS' section*"
    }

    It 'names the parameter whose yaml block is missing' {
        $page = $template -replace '(?s)```yaml.*?```\r?\n', ''
        { Convert-Page -Name 'noyaml' -Page $page } | Should -Throw -ExpectedMessage '*Test-Thing.md: parameter -Limit has no yaml block*'
    }
}
