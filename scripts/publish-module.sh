#!/usr/bin/env bash
# Publishes the VmProbe module to OUTPUT/VmProbe/<version>/, a folder Import-Module loads as is, and prints that folder.
# The packaging itself is build.ps1 -Task Package (one copy of it: manifest, script module, format file, LICENSE,
# bin/*.dll, MAML help and about_VmProbe.help.txt); this script only gets a pwsh to run it, installing PowerShell as a
# .NET global tool when none is on PATH (scripts/install-pwsh.sh).
# Usage: scripts/publish-module.sh [OUTPUT_DIR] [CONFIGURATION]   (defaults: output, Release)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
output="${1:-$repo/output}"
configuration="${2:-Release}"

version="$(sed -n "s/^[[:space:]]*ModuleVersion[[:space:]]*=[[:space:]]*'\([0-9.]*\)'.*/\1/p" "$repo/VmProbe.psd1")"
if [[ -z "$version" ]]; then
    echo "publish-module: no ModuleVersion in $repo/VmProbe.psd1" >&2
    exit 1
fi

export PATH="${DOTNET_CLI_HOME:-$HOME}/.dotnet/tools:$PATH"
if ! command -v pwsh >/dev/null 2>&1; then
    "$repo/scripts/install-pwsh.sh" >&2
fi

# stdout is the module folder alone: build.ps1's own output goes to stderr.
pwsh -NoProfile -NonInteractive -File "$repo/build.ps1" -Task Package -Configuration "$configuration" -OutputPath "$output" </dev/null >&2

echo "$output/VmProbe/$version"
