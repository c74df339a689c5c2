#Requires -Version 7.4
<#
.SYNOPSIS
Converts platyPS markdown help (docs/en-US/*.md) into MAML external help and about_*.help.txt, without platyPS.

.DESCRIPTION
build.ps1 -Task Docs uses platyPS's New-ExternalHelp when it is installed and this script otherwise (no registry here
serves platyPS). It reads the platyPS page layout: the front matter ('external help file' names the MAML file a page
goes to), '# Name', and the sections SYNOPSIS, SYNTAX (one '### Set' per parameter set, or one code block),
DESCRIPTION, EXAMPLES ('### Example N: Title', code fences and remarks), PARAMETERS ('### -Name', its description and
its yaml block), INPUTS, OUTPUTS, NOTES and RELATED LINKS. It writes one MAML file (helpItems of command:command) per
external help file, through XmlWriter, so every text is escaped. An about_*.md page becomes about_*.help.txt.
A page without a required section, a parameter without its yaml block, or a syntax naming an undocumented parameter
stops the conversion with an error naming the file and the field.

.EXAMPLE
./build/ConvertTo-MamlHelp.ps1 -Path docs/en-US -OutputPath output/VmProbe/0.1.0/en-US
#>
[CmdletBinding()]
[OutputType([System.IO.FileInfo])]
param(
    [Parameter(Mandatory)]
    [string] $Path,

    [Parameter(Mandatory)]
    [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$mamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$commandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$devNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Split-MarkdownBlock {
    # Lines -> blocks: @{ Kind = 'text'|'code'|'heading'; Level; Text; Lang }. Fenced code is kept verbatim, so a
    # '#' line inside an example is never taken for a heading.
    param([string[]] $Lines)

    $blocks = [System.Collections.Generic.List[hashtable]]::new()
    $paragraph = [System.Collections.Generic.List[string]]::new()
    $flush = {
        if ($paragraph.Count -gt 0) {
            $blocks.Add(@{ Kind = 'text'; Text = ($paragraph -join "`n") })
            $paragraph.Clear()
        }
    }
    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^\s*```(\S*)\s*$') {
            & $flush
            $lang = $Matches[1]
            $code = [System.Collections.Generic.List[string]]::new()
            for ($i++; $i -lt $Lines.Count -and $Lines[$i] -notmatch '^\s*```\s*$'; $i++) {
                $code.Add($Lines[$i])
            }

            $blocks.Add(@{ Kind = 'code'; Lang = $lang; Text = ($code -join "`n") })
        }
        elseif ($line -match '^(#{1,6})\s+(.*?)\s*$') {
            & $flush
            $blocks.Add(@{ Kind = 'heading'; Level = $Matches[1].Length; Text = $Matches[2] })
        }
        elseif ($line.Trim() -eq '') {
            & $flush
        }
        else {
            $paragraph.Add($line.TrimEnd())
        }
    }

    & $flush
    , $blocks
}

function Get-Section {
    # The blocks under one '## NAME' heading, up to the next level-1 or level-2 heading.
    param($Blocks, [string] $Name)

    $start = -1
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        if ($Blocks[$i].Kind -eq 'heading' -and $Blocks[$i].Level -eq 2 -and $Blocks[$i].Text -eq $Name) {
            $start = $i + 1
            break
        }
    }

    if ($start -lt 0) {
        return $null
    }

    $section = [System.Collections.Generic.List[hashtable]]::new()
    for ($i = $start; $i -lt $Blocks.Count -and -not ($Blocks[$i].Kind -eq 'heading' -and $Blocks[$i].Level -le 2); $i++) {
        $section.Add($Blocks[$i])
    }

    , $section
}

function Split-Subsection {
    # '### Title' groups of a section: @{ Title; Blocks }. Blocks before the first '###' have the title ''.
    param($Blocks)

    $groups = [System.Collections.Generic.List[hashtable]]::new()
    $current = @{ Title = ''; Blocks = [System.Collections.Generic.List[hashtable]]::new() }
    foreach ($block in $Blocks) {
        if ($block.Kind -eq 'heading' -and $block.Level -eq 3) {
            if ($current.Title -ne '' -or $current.Blocks.Count -gt 0) {
                $groups.Add($current)
            }

            $current = @{ Title = $block.Text; Blocks = [System.Collections.Generic.List[hashtable]]::new() }
        }
        else {
            $current.Blocks.Add($block)
        }
    }

    if ($current.Title -ne '' -or $current.Blocks.Count -gt 0) {
        $groups.Add($current)
    }

    # Unrolled: a foreach over a wrapped list would see one item, the list.
    $groups
}

function Get-Paragraph {
    # The text of blocks as MAML paragraphs; a non-yaml code block stays one paragraph of its own.
    param($Blocks)

    @($Blocks | Where-Object { $_.Kind -eq 'text' -or ($_.Kind -eq 'code' -and $_.Lang -ne 'yaml') } | ForEach-Object { $_.Text })
}

function Read-PlatyPsPage {
    # One command page -> a hashtable the MAML writer takes. Errors name the file and the field.
    param([string] $File)

    $text = (Get-Content -LiteralPath $File -Raw) -replace "`r`n", "`n"
    $lines = $text -split "`n"
    $front = @{}
    $bodyStart = 0
    if ($lines[0] -eq '---') {
        $end = [Array]::IndexOf($lines, '---', 1)
        if ($end -lt 0) {
            throw "${File}: the front matter opened by '---' on line 1 is never closed."
        }

        foreach ($line in $lines[1..($end - 1)]) {
            if ($line -match '^([^:]+):\s*(.*?)\s*$') {
                $front[$Matches[1].Trim()] = $Matches[2]
            }
        }

        $bodyStart = $end + 1
    }

    $blocks = Split-MarkdownBlock -Lines $lines[$bodyStart..($lines.Count - 1)]
    $title = @($blocks | Where-Object { $_.Kind -eq 'heading' -and $_.Level -eq 1 } | Select-Object -First 1)
    if ($title.Count -eq 0) {
        throw "${File}: no '# CommandName' title."
    }

    $name = $title[0].Text
    if (-not $front['external help file']) {
        throw "${File}: the front matter has no 'external help file' (VmProbe.dll-Help.xml or VmProbe-help.xml)."
    }

    $required = @{}
    foreach ($sectionName in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS') {
        $required[$sectionName] = Get-Section -Blocks $blocks -Name $sectionName
        if ($null -eq $required[$sectionName]) {
            throw "${File}: no '## $sectionName' section."
        }
    }

    $synopsis = (Get-Paragraph $required.SYNOPSIS) -join ' '
    if (-not $synopsis) {
        throw "${File}: '## SYNOPSIS' is empty."
    }

    # Parameters: description paragraphs, then the yaml block's fields (platyPS may give one yaml block per set).
    $parameters = [ordered]@{}
    foreach ($group in @(Split-Subsection $required.PARAMETERS)) {
        if ($group.Title -eq 'CommonParameters' -or $group.Title -eq '') {
            continue
        }

        if ($group.Title -notmatch '^-(\w+)$') {
            throw "${File}: '### $($group.Title)' under PARAMETERS is not '### -Name'."
        }

        $parameterName = $Matches[1]
        $yamlBlocks = @($group.Blocks | Where-Object { $_.Kind -eq 'code' -and $_.Lang -eq 'yaml' })
        if ($yamlBlocks.Count -eq 0) {
            throw "${File}: parameter -$parameterName has no yaml block (Type, Parameter Sets, Required, Position...)."
        }

        $fields = @{}
        $sets = [System.Collections.Generic.List[string]]::new()
        foreach ($yaml in $yamlBlocks) {
            foreach ($line in $yaml.Text -split "`n") {
                if ($line -match '^([^:]+):\s*(.*?)\s*$') {
                    if (-not $fields.ContainsKey($Matches[1])) {
                        $fields[$Matches[1]] = $Matches[2]
                    }

                    if ($Matches[1] -eq 'Parameter Sets') {
                        $sets.AddRange([string[]]@($Matches[2] -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }))
                    }
                }
            }
        }

        if (-not $fields['Type']) {
            throw "${File}: the yaml block of -$parameterName has no 'Type:'."
        }

        $parameters[$parameterName] = @{
            Name        = $parameterName
            Description = @(Get-Paragraph $group.Blocks)
            Type        = $fields['Type']
            Sets        = $sets.ToArray()
            Aliases     = "$($fields['Aliases'])"
            Required    = "$($fields['Required'])" -eq 'True'
            Position    = if ($fields['Position']) { $fields['Position'] } else { 'Named' }
            Default     = if ($fields['Default value']) { $fields['Default value'] } else { 'None' }
            Pipeline    = if ($fields['Accept pipeline input']) { $fields['Accept pipeline input'] } else { 'False' }
            Globbing    = "$($fields['Accept wildcard characters'])" -eq 'True'
        }
    }

    # Syntax: each code block is one parameter set; its -Name tokens, in order, are the set's parameters.
    # A list, not foreach output: one set's names would otherwise be unrolled into one set per name.
    $syntax = [System.Collections.Generic.List[object]]::new()
    foreach ($code in @($required.SYNTAX | Where-Object { $_.Kind -eq 'code' })) {
        $names = @([regex]::Matches($code.Text, '(?<![\w-])-(\w+)') | ForEach-Object { $_.Groups[1].Value } | Select-Object -Unique)
        foreach ($parameterName in $names) {
            if (-not $parameters.Contains($parameterName)) {
                throw "${File}: SYNTAX names -$parameterName, which has no '### -$parameterName' under PARAMETERS."
            }
        }

        $syntax.Add([string[]]$names)
    }

    if ($syntax.Count -eq 0) {
        throw "${File}: '## SYNTAX' has no code block."
    }

    $examples = foreach ($group in @(Split-Subsection $required.EXAMPLES)) {
        $code = @($group.Blocks | Where-Object { $_.Kind -eq 'code' } | ForEach-Object { $_.Text })
        if ($code.Count -eq 0) {
            throw "${File}: example '$($group.Title)' has no code block."
        }

        @{ Title = $group.Title; Code = ($code -join "`n`n"); Remarks = @($group.Blocks | Where-Object { $_.Kind -eq 'text' } | ForEach-Object { $_.Text }) }
    }

    $typed = {
        param($Section)
        if ($null -eq $Section) {
            return
        }

        foreach ($group in @(Split-Subsection $Section)) {
            $typeName = if ($group.Title) { $group.Title } else { (Get-Paragraph $group.Blocks | Select-Object -First 1) }
            $description = if ($group.Title) { @(Get-Paragraph $group.Blocks) } else { @(Get-Paragraph $group.Blocks | Select-Object -Skip 1) }
            @{ Type = $typeName; Description = $description }
        }
    }

    $links = foreach ($paragraph in @(Get-Paragraph (Get-Section -Blocks $blocks -Name 'RELATED LINKS'))) {
        foreach ($match in [regex]::Matches($paragraph, '\[([^\]]+)\]\(([^)]*)\)')) {
            # A link to a sibling page (about_VmProbe.md) is a topic name for Get-Help, not a URI.
            $uri = if ($match.Groups[2].Value -match '^https?://') { $match.Groups[2].Value } else { '' }
            @{ Text = $match.Groups[1].Value; Uri = $uri }
        }
    }

    @{
        File        = $File
        Name        = $name
        HelpFile    = $front['external help file']
        Synopsis    = $synopsis
        Description = @(Get-Paragraph $required.DESCRIPTION)
        Syntax      = $syntax.ToArray()
        Parameters  = $parameters
        Examples    = @($examples)
        Inputs      = @(& $typed (Get-Section -Blocks $blocks -Name 'INPUTS'))
        Outputs     = @(& $typed (Get-Section -Blocks $blocks -Name 'OUTPUTS'))
        Notes       = @(Get-Paragraph (Get-Section -Blocks $blocks -Name 'NOTES'))
        Links       = @($links)
    }
}

. (Join-Path -Path $PSScriptRoot -ChildPath 'MamlWriter.ps1')

$pages = Get-ChildItem -LiteralPath $Path -Filter '*.md' | Sort-Object -Property Name
if (-not $pages) {
    throw "No *.md help pages in $Path."
}

$null = New-Item -ItemType Directory -Path $OutputPath -Force
$commands = @($pages | Where-Object { $_.Name -notlike 'about_*' } | ForEach-Object { Read-PlatyPsPage -File $_.FullName })
foreach ($group in $commands | Group-Object -Property { $_.HelpFile }) {
    $target = Join-Path -Path $OutputPath -ChildPath $group.Name
    Write-MamlFile -Path $target -Command $group.Group
    Get-Item -LiteralPath $target
}

foreach ($about in $pages | Where-Object { $_.Name -like 'about_*' }) {
    $target = Join-Path -Path $OutputPath -ChildPath ($about.BaseName + '.help.txt')
    ConvertTo-AboutHelpText -Path $about.FullName | Set-Content -LiteralPath $target -Encoding utf8NoBOM
    Get-Item -LiteralPath $target
}
