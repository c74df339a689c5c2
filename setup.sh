#!/usr/bin/env bash
# First command of the quick start on a fresh Debian 12 host (as root, .NET SDK 8 or newer installed):
# installs the runtime packages, publishes the vmprobe runner to out/vmprobe, then runs it.
#
#   ./setup.sh [CONFIG] [--once]
#
# CONFIG defaults to config/vmprobe.yaml (the bundled example). --once runs a single cycle and exits.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$repo/config/vmprobe.yaml"
once=()

for arg in "$@"; do
    case "$arg" in
        --once) once=(--once) ;;
        -h|--help)
            sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        -*) echo "setup.sh: unknown option '$arg' (usage: ./setup.sh [CONFIG] [--once])" >&2; exit 2 ;;
        *) config="$arg" ;;
    esac
done

if [[ $EUID -ne 0 ]]; then
    echo "setup.sh: run as root (apt-get, perf_event_open and libvirt's system socket need it)" >&2
    exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
    echo "setup.sh: 'dotnet' not found: install the .NET SDK 8 or newer first (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
    exit 1
fi
sdk_major="$(dotnet --list-sdks 2>/dev/null | sed -n 's/^\([0-9]\+\)\..*/\1/p' | sort -n | tail -1)"
if [[ -z "$sdk_major" || "$sdk_major" -lt 8 ]]; then
    echo "setup.sh: a .NET SDK 8 or newer is required (found: ${sdk_major:-none}; 'dotnet --list-sdks')" >&2
    exit 1
fi

if [[ ! -f "$config" ]]; then
    echo "setup.sh: config file '$config' not found" >&2
    exit 2
fi

"$repo/scripts/install-packages.sh" runtime

echo "setup.sh: publishing the runner to $repo/out/vmprobe"
dotnet publish "$repo/src/VmProbe.Cli" -c Release -o "$repo/out/vmprobe" --nologo

# Validates the config (errors go to stderr, and set -e stops here with vmprobe's exit code).
check="$("$repo/out/vmprobe/vmprobe" --config "$config" --check)"
endpoint="$(sed -n 's/^endpoint: *//p' <<<"$check")"
echo "setup.sh: writing $endpoint (served by node_exporter's textfile collector from $(dirname "$endpoint"))"
exec "$repo/out/vmprobe/vmprobe" --config "$config" "${once[@]}"
