#Requires -Modules Pester
# A good neighbour in a shared session: VmProbe.Core and its YamlDotNet load in the module's own AssemblyLoadContext
# (bin/lib/), so another module with another YamlDotNet, imported before or after VmProbe, breaks neither. The other
# module is tests/tools/YamlNeighbour (YamlDotNet 13.7.1), built here with dotnet build; each case runs in a child pwsh,
# since nothing loaded into a process can be unloaded.

BeforeDiscovery {
    # $libvirtPresent for the -Skip: argument of the libvirt case.
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
}

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $script:manifestPath = Resolve-VmProbeManifest
    $script:moduleBase = Split-Path -Path $script:manifestPath -Parent
    $script:config = Join-Path $repoRoot 'config/vmprobe.yaml'
    $script:work = Join-Path ([System.IO.Path]::GetTempPath()) "vmprobe-isolation-$([guid]::NewGuid().ToString('N'))"
    $script:neighbourBase = Join-Path $script:work 'YamlNeighbour'
    $project = Join-Path $repoRoot 'tests/tools/YamlNeighbour/YamlNeighbour.csproj'
    $build = @(& dotnet build $project -c Release -o $script:neighbourBase --nologo 2>&1 | ForEach-Object { [string]$_ })
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet build $project failed ($LASTEXITCODE):`n$($build -join "`n")"
    }

    $script:neighbourManifest = Join-Path $script:neighbourBase 'YamlNeighbour.psd1'
    # The YamlDotNet the module ships, wherever in bin/ (bin/lib/ now): the cases check behaviour, not the layout.
    $shipped = Get-ChildItem -LiteralPath (Join-Path $script:moduleBase 'bin') -Filter 'YamlDotNet.dll' -Recurse | Select-Object -First 1
    $script:vmProbeYaml = [System.Reflection.AssemblyName]::GetAssemblyName($shipped.FullName).Version
    $script:neighbourYaml = [System.Reflection.AssemblyName]::GetAssemblyName((Join-Path $script:neighbourBase 'YamlDotNet.dll')).Version

    # Runs $Script (a param() block and its body) in a child pwsh with $Arguments; returns its output lines and exit code.
    function Invoke-ChildPwsh {
        param(
            [Parameter(Mandatory)] [string] $Script,
            [hashtable] $Arguments = @{},
            [hashtable] $Environment = @{}
        )

        $quoted = foreach ($key in $Arguments.Keys) { "-$key '$($Arguments[$key] -replace "'", "''")'" }
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes("& { $Script } $($quoted -join ' ')"))
        $saved = @{}
        foreach ($name in $Environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $Environment[$name])
        }

        try {
            $lines = @(& (Get-VmProbeTestPwsh) -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { [string]$_ })
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Lines = $lines; Text = $lines -join "`n" }
        }
        finally {
            foreach ($name in $saved.Keys) {
                [Environment]::SetEnvironmentVariable($name, $saved[$name])
            }
        }
    }

    # Imports both modules in the given order, each used right after its import and both used again at the end.
    $script:twoModules = @'
param($Order, $VmProbe, $Neighbour, $Config)
$ErrorActionPreference = 'Stop'
function Use-VmProbe([string] $Label) {
    $probeConfig = Get-VmProbeConfig -Path $Config
    "$Label.vmprobe.prefix=$($probeConfig.Prefix)"
    "$Label.vmprobe.is=$($probeConfig -is [VmProbe.Config.ProbeConfig])"
}
function Use-Neighbour([string] $Label) {
    $parsed = ConvertFrom-NeighbourYaml -Yaml "answer: forty-two"
    "$Label.neighbour.value=$($parsed.Values['answer'])"
    "$Label.neighbour.yaml=$($parsed.YamlDotNetVersion)"
}
if ($Order -eq 'NeighbourFirst') {
    Import-Module -Name $Neighbour; Use-Neighbour first
    Import-Module -Name $VmProbe; Use-VmProbe second
}
else {
    Import-Module -Name $VmProbe; Use-VmProbe first
    Import-Module -Name $Neighbour; Use-Neighbour second
}
Use-VmProbe again
Use-Neighbour again
$vmProbeContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([VmProbe.VmDomain].Assembly)
"vmprobe.context=$($vmProbeContext.Name)"
"vmprobe.yaml=$(@($vmProbeContext.Assemblies | Where-Object { $_.GetName().Name -eq 'YamlDotNet' }).ForEach({ $_.GetName().Version }) -join ',')"
'@
}

AfterAll {
    Remove-Item -LiteralPath $script:work -Recurse -Force -ErrorAction Ignore
}

Describe 'VmProbe beside a module with another YamlDotNet' {
    It 'is tested with two YamlDotNet versions' {
        $script:neighbourYaml | Should -Not -Be $script:vmProbeYaml
    }

    It 'works with the other module imported <_> VmProbe' -ForEach 'before', 'after' {
        $order = if ($_ -eq 'before') { 'NeighbourFirst' } else { 'VmProbeFirst' }
        $run = Invoke-ChildPwsh -Script $script:twoModules -Arguments @{ Order = $order; VmProbe = $script:manifestPath; Neighbour = $script:neighbourManifest; Config = $script:config }
        $run.ExitCode | Should -Be 0 -Because $run.Text
        foreach ($label in 'first', 'second', 'again') {
            if ($run.Lines -like "$label.vmprobe.*") {
                $run.Lines | Should -Contain "$label.vmprobe.prefix=vmprobe" -Because $run.Text
                $run.Lines | Should -Contain "$label.vmprobe.is=True" -Because $run.Text
            }
            if ($run.Lines -like "$label.neighbour.*") {
                $run.Lines | Should -Contain "$label.neighbour.value=forty-two" -Because $run.Text
                $run.Lines | Should -Contain "$label.neighbour.yaml=$($script:neighbourYaml)" -Because $run.Text
            }
        }
        @($run.Lines -like '*.vmprobe.prefix=vmprobe').Count | Should -Be 2 -Because $run.Text
        @($run.Lines -like '*.neighbour.value=forty-two').Count | Should -Be 2 -Because $run.Text
        $run.Lines | Should -Contain 'vmprobe.context=VmProbe' -Because $run.Text
        $run.Lines | Should -Contain "vmprobe.yaml=$($script:vmProbeYaml)" -Because $run.Text
    }
}

Describe 'VmProbe in its own load context' {
    It 'loads the cmdlets in the default context and VmProbe.Core and YamlDotNet in its own, lending neither to the default context' {
        $run = Invoke-ChildPwsh -Arguments @{ VmProbe = $script:manifestPath; Config = $script:config } -Script @'
param($VmProbe, $Config)
$ErrorActionPreference = 'Stop'
Import-Module -Name $VmProbe
$null = Get-VmProbeConfig -Path $Config
foreach ($assembly in [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'VmProbe', 'VmProbe.Loader', 'VmProbe.Core', 'YamlDotNet' }) {
    "$($assembly.GetName().Name)=$([System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($assembly).Name)"
}
try {
    $null = [System.Runtime.Loader.AssemblyLoadContext]::Default.LoadFromAssemblyName([System.Reflection.AssemblyName] 'YamlDotNet')
    'default.yaml=loaded'
}
catch {
    'default.yaml=none'
}
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Lines | Should -Contain 'VmProbe=Default' -Because $run.Text
        $run.Lines | Should -Contain 'VmProbe.Loader=Default' -Because $run.Text
        $run.Lines | Should -Contain 'VmProbe.Core=VmProbe' -Because $run.Text
        $run.Lines | Should -Contain 'YamlDotNet=VmProbe' -Because $run.Text
        $run.Lines | Should -Contain 'default.yaml=none' -Because $run.Text
    }

    It 'resolves the type names of VmProbe.Core in scripts and format views, and imports again after Remove-Module' {
        $run = Invoke-ChildPwsh -Arguments @{ VmProbe = $script:manifestPath; Config = $script:config } -Script @'
param($VmProbe, $Config)
$ErrorActionPreference = 'Stop'
Import-Module -Name $VmProbe
"domain=$([VmProbe.VmDomain].FullName)"
"config=$([VmProbe.Config.ProbeConfig].FullName)"
"session=$([VmProbe.VmPerfSession].FullName)"
"views=$(@(Get-FormatData -TypeName 'VmProbe.VmDomain').Count)"
Remove-Module -Name VmProbe
Import-Module -Name $VmProbe
"again=$((Get-VmProbeConfig -Path $Config) -is [VmProbe.Config.ProbeConfig])"
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Lines | Should -Contain 'domain=VmProbe.VmDomain' -Because $run.Text
        $run.Lines | Should -Contain 'config=VmProbe.Config.ProbeConfig' -Because $run.Text
        $run.Lines | Should -Contain 'session=VmProbe.VmPerfSession' -Because $run.Text
        $run.Lines | Should -Contain 'views=1' -Because $run.Text
        $run.Lines | Should -Contain 'again=True' -Because $run.Text
    }

    It 'loads libvirt from its own context: Get-VmDomain -Uri test:///default, VMPROBE_LIBVIRT_PATH=<_>' -Skip:(-not $libvirtPresent) -ForEach 'unset', 'the library', 'a missing file' {
        $libvirt = @('/usr/lib/x86_64-linux-gnu/libvirt.so.0', '/usr/lib64/libvirt.so.0', '/usr/lib/libvirt.so.0') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        $case = $_
        $variable = switch ($case) {
            'unset' { $null }
            'the library' { $libvirt }
            'a missing file' { Join-Path $script:work 'no-libvirt.so.0' }
        }
        $run = Invoke-ChildPwsh -Arguments @{ VmProbe = $script:manifestPath; Neighbour = $script:neighbourManifest } -Environment @{ VMPROBE_LIBVIRT_PATH = $variable } -Script @'
param($VmProbe, $Neighbour)
Import-Module -Name $Neighbour -ErrorAction Stop
Import-Module -Name $VmProbe -ErrorAction Stop
try {
    $domains = @(Get-VmDomain -Uri 'test:///default' -ErrorAction Stop -WarningVariable warnings -WarningAction SilentlyContinue)
    $warnings | ForEach-Object { "warning=$_" }
    "count=$($domains.Count)"
    "is=$($domains[0] -is [VmProbe.VmDomain])"
    "table=$(($domains | Format-Table | Out-String) -match 'Running')"
}
catch {
    "error=$($_.Exception.Message)"
}
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        if ($case -eq 'a missing file') {
            # The clear one-line reason of LibvirtLibrary, then the /proc scan fallback: the resolver ran in VmProbe's context.
            @($run.Lines -like 'warning=*VMPROBE_LIBVIRT_PATH=*does not exist*').Count | Should -Be 1 -Because $run.Text
        }
        else {
            $run.Lines | Should -Contain 'count=1' -Because $run.Text
            $run.Lines | Should -Contain 'is=True' -Because $run.Text
            $run.Lines | Should -Contain 'table=True' -Because $run.Text
        }
    }
}
