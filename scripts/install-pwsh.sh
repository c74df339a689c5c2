#!/usr/bin/env bash
# Installs what the Pester suite needs when it is missing: pwsh 7.4 or newer (PowerShell 7.6.9 as a .NET global
# tool, the one way that needs nothing but the .NET SDK and NuGet) and Pester 5.5 or newer (5.9.1 from NuGet through
# tests/tools/pester/Pester.csproj, copied into the user's PowerShell module folder).
# A pwsh already on PATH, however it was installed (package, tarball, tool), is used as is when new enough.
# The caller puts ~/.dotnet/tools on PATH first (test.sh does). Exit 0 when both are there afterwards, 1 otherwise,
# with the reason on stderr.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pwsh_version=7.6.9
pester_version=5.9.1
tools="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools"

pwsh_ok() {
    command -v pwsh >/dev/null 2>&1 &&
        pwsh -NoProfile -NonInteractive -Command 'exit [int]($PSVersionTable.PSVersion -lt [version]"7.4")' </dev/null
}

if ! pwsh_ok; then
    echo "install-pwsh: installing PowerShell $pwsh_version (dotnet tool install --global PowerShell)"
    if [ -x "$tools/pwsh" ]; then
        # A tool of another version: update moves it to the pinned one.
        dotnet tool update --global PowerShell --version "$pwsh_version" </dev/null
    else
        dotnet tool install --global PowerShell --version "$pwsh_version" </dev/null
    fi
    case ":$PATH:" in *":$tools:"*) ;; *) export PATH="$tools:$PATH" ;; esac
    hash -r
    if ! pwsh_ok; then
        echo "install-pwsh: pwsh 7.4 or newer is still not runnable after installing it in $tools (is $tools on PATH?)" >&2
        exit 1
    fi
fi

pester_ok() {
    pwsh -NoProfile -NonInteractive -Command \
        'exit [int](-not (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]"5.9" -and $_.Version.Major -eq 5 }))' </dev/null
}

if ! pester_ok; then
    echo "install-pwsh: installing Pester $pester_version (dotnet restore tests/tools/pester)"
    dotnet restore "$repo/tests/tools/pester/Pester.csproj" --nologo </dev/null
    packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
    source="$packages/pester/$pester_version/tools"
    if [ ! -f "$source/Pester.psd1" ]; then
        echo "install-pwsh: dotnet restore left no $source/Pester.psd1" >&2
        exit 1
    fi
    # The CurrentUser module folder of pwsh on Linux, the first entry of its default PSModulePath.
    target="${XDG_DATA_HOME:-$HOME/.local/share}/powershell/Modules/Pester/$pester_version"
    rm -rf "$target.tmp"
    mkdir -p "$(dirname "$target")"
    cp -R "$source" "$target.tmp"
    rm -rf "$target"
    mv "$target.tmp" "$target"
    if ! pester_ok; then
        echo "install-pwsh: pwsh finds no Pester 5.9.x after copying Pester $pester_version to $target" >&2
        exit 1
    fi
fi

pwsh -NoProfile -NonInteractive -Command '"install-pwsh: pwsh $($PSVersionTable.PSVersion) in $PSHOME, Pester $((Get-Module -ListAvailable -Name Pester | Sort-Object Version -Descending | Select-Object -First 1).Version)"' </dev/null
