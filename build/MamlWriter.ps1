# The writing half of build/ConvertTo-MamlHelp.ps1 (dot-sourced by it): MAML command:command XML from the pages it
# read, and about_*.help.txt text. XmlWriter does all escaping (&, <, > and quotes in help text and attributes).

function Write-MamlPara {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Text)

    foreach ($paragraph in $Text) {
        $Writer.WriteElementString('maml', 'para', $mamlNs, $paragraph)
    }
}

function Write-MamlDescription {
    # maml:description with one maml:para per paragraph; an empty one when there is no text (Get-Help expects it).
    param([System.Xml.XmlWriter] $Writer, [string[]] $Text)

    $Writer.WriteStartElement('maml', 'description', $mamlNs)
    Write-MamlPara -Writer $Writer -Text @($Text | Where-Object { $_ })
    $Writer.WriteEndElement()
}

function Write-MamlParameter {
    # One command:parameter, as platyPS writes it in both command:syntaxItem and command:parameters.
    param([System.Xml.XmlWriter] $Writer, [hashtable] $Parameter, [switch] $InSyntax)

    $isSwitch = $Parameter.Type -eq 'SwitchParameter'
    $Writer.WriteStartElement('command', 'parameter', $commandNs)
    $Writer.WriteAttributeString('required', $Parameter.Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', 'true')
    $Writer.WriteAttributeString('globbing', $Parameter.Globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Parameter.Pipeline)
    $Writer.WriteAttributeString('position', $(if ($Parameter.Position -eq 'Named') { 'named' } else { $Parameter.Position }))
    $Writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases) { $Parameter.Aliases } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $mamlNs, $Parameter.Name)
    Write-MamlDescription -Writer $Writer -Text $Parameter.Description
    if (-not ($isSwitch -and $InSyntax)) {
        # A switch takes no value in a syntax line.
        $Writer.WriteStartElement('command', 'parameterValue', $commandNs)
        $Writer.WriteAttributeString('required', $(if ($isSwitch) { 'false' } else { 'true' }))
        $Writer.WriteAttributeString('variableLength', 'false')
        $Writer.WriteString($Parameter.Type)
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('dev', 'type', $devNs)
    $Writer.WriteElementString('maml', 'name', $mamlNs, $Parameter.Type)
    $Writer.WriteElementString('maml', 'uri', $mamlNs, '')
    $Writer.WriteEndElement()
    $Writer.WriteElementString('dev', 'defaultValue', $devNs, $Parameter.Default)
    $Writer.WriteEndElement()
}

function Write-MamlTypeList {
    # command:inputTypes/inputType or command:returnValues/returnValue.
    param([System.Xml.XmlWriter] $Writer, [string] $ListName, [string] $ItemName, $Types)

    $Writer.WriteStartElement('command', $ListName, $commandNs)
    foreach ($type in $Types) {
        $Writer.WriteStartElement('command', $ItemName, $commandNs)
        $Writer.WriteStartElement('dev', 'type', $devNs)
        $Writer.WriteElementString('maml', 'name', $mamlNs, $type.Type)
        $Writer.WriteEndElement()
        Write-MamlDescription -Writer $Writer -Text $type.Description
        $Writer.WriteEndElement()
    }

    $Writer.WriteEndElement()
}

function Write-MamlCommand {
    param([System.Xml.XmlWriter] $Writer, [hashtable] $Page)

    $Writer.WriteStartElement('command', 'command', $commandNs)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $mamlNs)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $commandNs)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $devNs)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, 'http://msdn.microsoft.com/mshelp')

    $verb, $noun = $Page.Name -split '-', 2
    $Writer.WriteStartElement('command', 'details', $commandNs)
    $Writer.WriteElementString('command', 'name', $commandNs, $Page.Name)
    $Writer.WriteElementString('command', 'verb', $commandNs, $verb)
    $Writer.WriteElementString('command', 'noun', $commandNs, "$noun")
    Write-MamlDescription -Writer $Writer -Text $Page.Synopsis
    $Writer.WriteEndElement()

    Write-MamlDescription -Writer $Writer -Text $Page.Description

    $Writer.WriteStartElement('command', 'syntax', $commandNs)
    foreach ($set in $Page.Syntax) {
        $Writer.WriteStartElement('command', 'syntaxItem', $commandNs)
        $Writer.WriteElementString('maml', 'name', $mamlNs, $Page.Name)
        foreach ($parameterName in $set) {
            Write-MamlParameter -Writer $Writer -Parameter $Page.Parameters[$parameterName] -InSyntax
        }

        $Writer.WriteEndElement()
    }

    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $commandNs)
    foreach ($parameter in $Page.Parameters.Values) {
        Write-MamlParameter -Writer $Writer -Parameter $parameter
    }

    $Writer.WriteEndElement()

    Write-MamlTypeList -Writer $Writer -ListName 'inputTypes' -ItemName 'inputType' -Types $Page.Inputs
    Write-MamlTypeList -Writer $Writer -ListName 'returnValues' -ItemName 'returnValue' -Types $Page.Outputs

    $Writer.WriteStartElement('maml', 'alertSet', $mamlNs)
    $Writer.WriteStartElement('maml', 'alert', $mamlNs)
    Write-MamlPara -Writer $Writer -Text $Page.Notes
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $commandNs)
    foreach ($example in $Page.Examples) {
        $Writer.WriteStartElement('command', 'example', $commandNs)
        # Get-Help prints the title as is; the dashes are platyPS's (and PowerShell's own help's) look.
        $Writer.WriteElementString('maml', 'title', $mamlNs, "-------------------------- $($example.Title) --------------------------")
        $Writer.WriteElementString('dev', 'code', $devNs, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $devNs)
        Write-MamlPara -Writer $Writer -Text $example.Remarks
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }

    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $commandNs)
    foreach ($link in $Page.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $mamlNs)
        $Writer.WriteElementString('maml', 'linkText', $mamlNs, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $mamlNs, $link.Uri)
        $Writer.WriteEndElement()
    }

    $Writer.WriteEndElement()
    $Writer.WriteEndElement()
}

function Write-MamlFile {
    param([string] $Path, [hashtable[]] $Command)

    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
    $writer = [System.Xml.XmlWriter]::Create($Path, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', 'http://msh')
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($page in $Command | Sort-Object -Property { $_.Name }) {
            Write-MamlCommand -Writer $writer -Page $page
        }

        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
}

function ConvertTo-AboutHelpText {
    # about_X.md (platyPS about layout: '# TITLE' sections, '## about_X' topic) -> the plain text Get-Help shows:
    # TOPIC, then each section's title in capitals and its text indented, code fences dropped.
    param([string] $Path)

    $lines = (Get-Content -LiteralPath $Path -Raw) -replace "`r`n", "`n" -split "`n"
    $topic = @($lines | Where-Object { $_ -match '^##\s+(about_\S+)\s*$' } | Select-Object -First 1)
    if ($topic.Count -eq 0) {
        throw "${Path}: no '## about_Name' topic line."
    }

    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC')
    $out.Add('    ' + ($topic[0] -replace '^##\s+', '').Trim())
    $seenTopic = $false
    foreach ($line in $lines) {
        if (-not $seenTopic) {
            $seenTopic = $line -match '^##\s+about_'
            continue
        }

        if ($line -match '^\s*```') {
            continue
        }

        if ($line -match '^#{1,2}\s+(.*?)\s*$') {
            if ($out[$out.Count - 1] -ne '') {
                $out.Add('')
            }

            $out.Add($Matches[1].ToUpperInvariant())
        }
        elseif ($line.Trim() -eq '') {
            if ($out[$out.Count - 1] -ne '') {
                $out.Add('')
            }
        }
        else {
            $out.Add('    ' + $line.TrimEnd())
        }
    }

    ($out -join "`n").TrimEnd() + "`n"
}
