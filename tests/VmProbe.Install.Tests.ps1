#Requires -Modules Pester
# Install by name: the built module published to a local PSResourceGet repository, saved from it into an empty module
# folder, then imported BY NAME in a child pwsh whose PSModulePath holds that folder. Repository and folders are
# uniquely named and removed afterwards.

BeforeAll {
    . "$PSScriptRoot/VmProbe.TestSupport.ps1"
    $modulePath = Resolve-VmProbeManifest
    $moduleBase = Split-Path -Path $modulePath -Parent
    $manifestData = Import-PowerShellDataFile -Path $modulePath
    $work = Join-Path ([System.IO.Path]::GetTempPath()) "vmprobe-install-$([guid]::NewGuid().ToString('N'))"
    $feed = Join-Path $work 'feed'
    $modules = Join-Path $work 'modules'
    $null = New-Item -ItemType Directory -Path $feed, $modules
    $repositoryName = "VmProbeTest$([guid]::NewGuid().ToString('N'))"
    Import-Module -Name Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    Register-PSResourceRepository -Name $repositoryName -Uri $feed -Trusted -ErrorAction Stop
}

AfterAll {
    Unregister-PSResourceRepository -Name $repositoryName -ErrorAction Ignore
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore
}

Describe 'VmProbe from a PSResourceGet repository' {
    It 'carries the manifest fields the PowerShell Gallery asks for' {
        foreach ($key in 'Description', 'Author', 'CompanyName', 'Copyright') {
            $manifestData[$key] | Should -Not -BeNullOrEmpty -Because "VmProbe.psd1 needs $key"
        }
        $manifestData.CompatiblePSEditions | Should -Be @('Core')
        $manifestData.PowerShellVersion | Should -Be '7.4'
        $psData = $manifestData.PrivateData.PSData
        foreach ($key in 'ProjectUri', 'LicenseUri') {
            $uri = $null
            [uri]::TryCreate($psData[$key], [System.UriKind]::Absolute, [ref] $uri) | Should -BeTrue -Because "PrivateData.PSData.$key must be an absolute URI"
            $uri.Scheme | Should -Be 'https'
        }
        @($psData.Tags).Count | Should -BeGreaterThan 0
        $psData.ReleaseNotes | Should -Not -BeNullOrEmpty
        Join-Path $moduleBase 'LICENSE' | Should -Exist
    }

    It 'publishes, saves by name, and imports by name in a child pwsh' {
        Publish-PSResource -Path $moduleBase -Repository $repositoryName -ErrorAction Stop
        Join-Path $feed "VmProbe.$($manifestData.ModuleVersion).nupkg" | Should -Exist

        Save-PSResource -Name VmProbe -Repository $repositoryName -Path $modules -TrustRepository -ErrorAction Stop
        Join-Path $modules "VmProbe/$($manifestData.ModuleVersion)/bin/VmProbe.dll" | Should -Exist

        # Only the saved copy is on this PSModulePath: by name, Import-Module can find no other VmProbe.
        $config = Join-Path $repoRoot 'config/vmprobe.yaml'
        $script = @'
param($Modules, $Config)
$env:PSModulePath = $Modules + [System.IO.Path]::PathSeparator + $env:PSModulePath
Import-Module -Name VmProbe -ErrorAction Stop
"base=$((Get-Module -Name VmProbe).ModuleBase)"
"prefix=$((Get-VmProbeConfig -Path $Config -ErrorAction Stop).Prefix)"
"events=$(@(Get-VmPerfEvent -Name TaskClock).Count)"
"synopsis=$((Get-Help -Name Get-VmDomain).Synopsis)"
'@
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes("& { $script } -Modules '$modules' -Config '$config'"))
        $output = @(& (Get-VmProbeTestPwsh) -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { [string]$_ })
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
        $output | Should -Contain "base=$(Join-Path $modules "VmProbe/$($manifestData.ModuleVersion)")"
        $output | Should -Contain "prefix=vmprobe"
        $output | Should -Contain "events=1"
        $output | Should -Contain "synopsis=Gets the KVM domains of a libvirt connection."
    }
}
