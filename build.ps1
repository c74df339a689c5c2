#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, documents and packages the VmProbe module.

.DESCRIPTION
Build   : dotnet build of the solution.
Test    : dotnet test, then the Pester task.
Pester  : Invoke-Pester on tests/*.Tests.ps1 against the published module (packaged first when missing); fails unless
          Pester's Result is Passed. -PesterSummaryPath writes "passed failed skipped" counts for test.sh, failed
          being failed tests + failed blocks + failed test files (Discovery, BeforeAll, AfterAll failures).
Docs    : MAML help from docs/en-US, always: with platyPS (New-ExternalHelp) when it is installed, otherwise with
          build/ConvertTo-MamlHelp.ps1: en-US/VmProbe-help.xml (Start-VmProbe), VmProbe.dll-Help.xml (cmdlets) in both
          en-US/ and bin/en-US/, and en-US/about_VmProbe.help.txt.
Package : publishes output/VmProbe/<version>/ (psd1, psm1, format file, bin/VmProbe.Loader.dll and bin/VmProbe.dll,
          their dependencies in bin/lib/, en-US help), a folder Import-Module loads as is.

.EXAMPLE
./build.ps1 -Task Package
#>
[CmdletBinding()]
param(
    # Also "Package,Pester" as one string: pwsh -File passes its arguments as strings, commas included.
    [ArgumentCompleter({ 'Build', 'Test', 'Pester', 'Docs', 'Package' })]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [string] $OutputPath = (Join-Path -Path $PSScriptRoot -ChildPath 'output'),

    [string] $PesterSummaryPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$knownTasks = 'Build', 'Test', 'Pester', 'Docs', 'Package'
$Task = @($Task | ForEach-Object { $_ -split ',' } | ForEach-Object { $_.Trim() } | Where-Object { $_ })
foreach ($name in $Task) {
    if ($name -notin $knownTasks) {
        throw "-Task: unknown task '$name'; the tasks are $($knownTasks -join ', ')."
    }
}

$manifest = Import-PowerShellDataFile -Path (Join-Path -Path $PSScriptRoot -ChildPath 'VmProbe.psd1')
$version = $manifest.ModuleVersion
$moduleRoot = Join-Path -Path $OutputPath -ChildPath "VmProbe/$version"

function Invoke-Native {
    param(
        [Parameter(Mandatory)]
        [string] $Command,

        [string[]] $Arguments
    )

    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE"
    }
}

function Invoke-BuildTask {
    Invoke-Native -Command 'dotnet' -Arguments @('build', (Join-Path $PSScriptRoot 'VmProbe.sln'), '-c', $Configuration, '--nologo')
}

function Invoke-PackageTask {
    $staging = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ("vmprobe-publish-" + [guid]::NewGuid())
    try {
        Invoke-Native -Command 'dotnet' -Arguments @('publish', (Join-Path $PSScriptRoot 'src/VmProbe/VmProbe.csproj'), '-c', $Configuration, '-o', $staging, '--nologo')
        if (Test-Path -LiteralPath $moduleRoot) {
            Remove-Item -LiteralPath $moduleRoot -Recurse -Force
        }

        $bin = Join-Path -Path $moduleRoot -ChildPath 'bin'
        $lib = Join-Path -Path $bin -ChildPath 'lib'
        $null = New-Item -ItemType Directory -Path $bin, $lib -Force
        foreach ($file in 'VmProbe.psd1', 'VmProbe.psm1', 'VmProbe.Format.ps1xml', 'LICENSE') {
            Copy-Item -LiteralPath (Join-Path $PSScriptRoot $file) -Destination $moduleRoot
        }

        # bin/VmProbe.Loader.dll and bin/VmProbe.dll (the cmdlets) load in the default load context; everything the
        # cmdlets depend on (VmProbe.Core, YamlDotNet) goes to bin/lib/, which the loader's module initializer loads
        # into the module's own AssemblyLoadContext, out of reach of another module's YamlDotNet (docs/ARCHITECTURE.md).
        # pwsh brings its own System.Management.Automation; the reference stub must never ship.
        $assemblies = @(Get-ChildItem -LiteralPath $staging -Filter '*.dll' |
            Where-Object { $_.Name -notlike 'System.Management.Automation*' })
        foreach ($assembly in $assemblies) {
            $destination = if ($assembly.Name -in 'VmProbe.dll', 'VmProbe.Loader.dll') { $bin } else { $lib }
            Copy-Item -LiteralPath $assembly.FullName -Destination $destination
        }

        foreach ($required in (Join-Path $bin 'VmProbe.dll'), (Join-Path $bin 'VmProbe.Loader.dll'), (Join-Path $lib 'VmProbe.Core.dll'), (Join-Path $lib 'YamlDotNet.dll')) {
            if (-not (Test-Path -LiteralPath $required -PathType Leaf)) {
                throw "Package: $required was not published."
            }
        }
    }
    finally {
        Remove-Item -LiteralPath $staging -Recurse -Force -ErrorAction Ignore
    }

    Invoke-DocsTask
    Test-ModuleManifest -Path (Join-Path $moduleRoot 'VmProbe.psd1') | Out-Null
    Write-Host "Published $moduleRoot"
}

function Invoke-DocsTask {
    $help = Join-Path -Path $moduleRoot -ChildPath 'en-US'
    $null = New-Item -ItemType Directory -Path $help -Force
    $docs = Join-Path -Path $PSScriptRoot -ChildPath 'docs/en-US'
    Copy-Item -Path (Join-Path $docs '*.md') -Destination $help
    # One MAML file per 'external help file' of the pages: VmProbe.dll-Help.xml (cmdlets), VmProbe-help.xml (Start-VmProbe).
    if (Get-Module -ListAvailable -Name platyPS) {
        Import-Module -Name platyPS
        New-ExternalHelp -Path $docs -OutputPath $help -Force | Out-Null
    }
    else {
        # No registry here serves platyPS: the project's converter reads the same markdown layout.
        & (Join-Path $PSScriptRoot 'build/ConvertTo-MamlHelp.ps1') -Path $docs -OutputPath $help | Out-Null
    }

    foreach ($name in 'VmProbe.dll-Help.xml', 'VmProbe-help.xml', 'about_VmProbe.help.txt') {
        if (-not (Test-Path -LiteralPath (Join-Path $help $name) -PathType Leaf)) {
            throw "Docs: $name was not written into $help (check 'external help file' in docs/en-US/*.md)."
        }
    }

    # Get-Help looks for a cmdlet's VmProbe.dll-Help.xml under its module's ModuleBase, and for a nested module also
    # beside the module file; whether a nested binary module's ModuleBase is the manifest folder or bin/ is not
    # something to rely on, so the cmdlet help sits in both culture folders. VmProbe-help.xml stays beside the psm1
    # (its .ExternalHelp).
    $binHelp = Join-Path -Path $moduleRoot -ChildPath 'bin/en-US'
    $null = New-Item -ItemType Directory -Path $binHelp -Force
    Copy-Item -LiteralPath (Join-Path $help 'VmProbe.dll-Help.xml') -Destination $binHelp -Force
}

function Invoke-TestTask {
    Invoke-Native -Command 'dotnet' -Arguments @('test', (Join-Path $PSScriptRoot 'tests/VmProbe.Tests'), '-c', $Configuration, '--nologo')
    Invoke-PesterTask
}

function Invoke-PesterTask {
    if (-not (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.9' -and $_.Version.Major -eq 5 })) {
        # A failure, not a skip: scripts/install-pwsh.sh (run by test.sh) installs Pester 5.9.1 from NuGet.
        throw "Pester 5.9.x is not installed in any PSModulePath folder ($env:PSModulePath): run scripts/install-pwsh.sh."
    }

    if (-not (Test-Path -LiteralPath (Join-Path $moduleRoot 'VmProbe.psd1'))) {
        Invoke-PackageTask
    }

    Import-Module -Name Pester -MinimumVersion 5.9 -MaximumVersion 5.9.999 -ErrorAction Stop
    $configuration = New-PesterConfiguration
    $configuration.Run.Path = Join-Path -Path $PSScriptRoot -ChildPath 'tests'
    $configuration.Run.Exit = $false
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Detailed'
    $env:VMPROBE_MODULE_PATH = Join-Path -Path $moduleRoot -ChildPath 'VmProbe.psd1'
    $result = Invoke-Pester -Configuration $configuration
    # FailedCount counts failed It blocks only: Pester 5 counts a failure outside any It (a file failing Discovery, a
    # failed BeforeAll or AfterAll) in FailedContainersCount or FailedBlocksCount. All three make the failed number;
    # Result, Passed only when all three are 0, decides the task.
    $failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    if ($PesterSummaryPath) {
        Set-Content -LiteralPath $PesterSummaryPath -Value "$($result.PassedCount) $failed $($result.SkippedCount)"
        # What failed, one line each, for test.sh to repeat at the end of its output.
        $failures = @($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers) | ForEach-Object {
            $message = if ($_.ErrorRecord.Count -gt 0) { "$($_.ErrorRecord[0].Exception.Message)" -replace '\s+', ' ' } else { '' }
            $name = if ($_.PSObject.Properties['ExpandedPath']) { $_.ExpandedPath } else { "$($_.Item)" }
            "  FAILED (Pester) ${name}: $($message.Substring(0, [Math]::Min(600, $message.Length)))"
        }
        Set-Content -LiteralPath "$PesterSummaryPath.failed" -Value $failures
    }

    if ($result.Result -ne 'Passed') {
        throw "Pester result $($result.Result): $($result.FailedCount) failed test(s), $($result.FailedBlocksCount) failed block(s), $($result.FailedContainersCount) failed test file(s)."
    }
}

foreach ($name in $Task) {
    switch ($name) {
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Pester' { Invoke-PesterTask }
        'Docs' { Invoke-DocsTask }
        'Package' { Invoke-PackageTask }
    }
}
