#!/usr/bin/env bash
# Publishes the VmProbe module to OUTPUT/VmProbe/<version>/ as a folder Import-Module loads as is, without pwsh:
# manifest, script module, format file, bin/*.dll, en-US help (markdown and about_VmProbe.help.txt).
# It ships no MAML help (that needs platyPS, hence pwsh): Get-Help then shows the generated syntax only.
# build.ps1 -Task Package does the same and, when platyPS is installed, also writes the MAML help: en-US/VmProbe-help.xml
# (Start-VmProbe) and VmProbe.dll-Help.xml (cmdlets) in both en-US/ and bin/en-US/.
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

module="$output/VmProbe/$version"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

dotnet publish "$repo/src/VmProbe/VmProbe.csproj" -c "$configuration" -o "$staging" --nologo -v quiet >&2

rm -rf "$module"
mkdir -p "$module/bin" "$module/en-US"
cp "$repo/VmProbe.psd1" "$repo/VmProbe.psm1" "$repo/VmProbe.Format.ps1xml" "$module/"
for dll in "$staging"/*.dll; do
    # pwsh brings its own System.Management.Automation; the reference stub must never ship.
    case "$(basename "$dll")" in
        System.Management.Automation*) ;;
        *) cp "$dll" "$module/bin/" ;;
    esac
done
cp "$repo"/docs/en-US/*.md "$module/en-US/"
cp "$repo/docs/en-US/about_VmProbe.md" "$module/en-US/about_VmProbe.help.txt"

for required in VmProbe.dll VmProbe.Core.dll YamlDotNet.dll; do
    if [[ ! -f "$module/bin/$required" ]]; then
        echo "publish-module: $required missing from $module/bin" >&2
        exit 1
    fi
done

echo "$module"
