#!/usr/bin/env bash
# First command of the quick start on a fresh Debian 12 host (as root, .NET SDK 8 or newer installed):
# installs the runtime packages, publishes the vmprobe runner to out/vmprobe, then runs it.
#
#   ./setup.sh [CONFIG] [--once] [--jit]
#
# CONFIG defaults to config/vmprobe.yaml (the bundled example). --once runs a single cycle and exits.
# The runner is published NativeAOT (no JIT warm-up: its first minute costs what later ones do, bench/RESULTS.md);
# without a C linker (clang or gcc) or the ILCompiler NuGet packages, or with --jit, framework-dependent instead.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$repo/config/vmprobe.yaml"
once=()
flavor=aot

for arg in "$@"; do
    case "$arg" in
        --once) once=(--once) ;;
        --jit) flavor=jit ;;
        -h|--help)
            sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        -*) echo "setup.sh: unknown option '$arg' (usage: ./setup.sh [CONFIG] [--once] [--jit])" >&2; exit 2 ;;
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

out="$repo/out/vmprobe"
log="$repo/out/publish.log"
mkdir -p "$repo/out"
# A fresh folder: a NativeAOT binary and a framework-dependent build's DLLs must not mix.
rm -rf "$out"
if [[ "$flavor" == aot ]] && ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    echo "setup.sh: no C linker (clang or gcc; apt-get install gcc) for NativeAOT: publishing the framework-dependent runner instead (slower first minute)"
    flavor=jit
fi
if [[ "$flavor" == aot ]]; then
    echo "setup.sh: publishing the NativeAOT runner to $out (about a minute; log: $log)"
    if ! dotnet publish "$repo/src/VmProbe.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$out" --nologo >"$log" 2>&1; then
        # MSBuild's "error NU1101: ..." or "error : Requested linker ... [project]": the message, without the project.
        reason="$(grep -m1 -o -E 'error( [A-Z]+[0-9]+)? ?:.*' "$log" | sed -e 's/ \[[^]]*\]$//' | cut -c1-200 || true)"
        echo "setup.sh: NativeAOT publish failed (${reason:-see $log}): publishing the framework-dependent runner instead (slower first minute)"
        rm -rf "$out"
        flavor=jit
    fi
fi
if [[ "$flavor" == jit ]]; then
    echo "setup.sh: publishing the framework-dependent runner to $out"
    dotnet publish "$repo/src/VmProbe.Cli" -c Release -o "$out" --nologo
fi

# Validates the config (errors go to stderr, and set -e stops here with vmprobe's exit code).
check="$("$out/vmprobe" --config "$config" --check)"
endpoint="$(sed -n 's/^endpoint: *//p' <<<"$check")"
echo "setup.sh: writing $endpoint (served by node_exporter's textfile collector from $(dirname "$endpoint"))"
exec "$out/vmprobe" --config "$config" "${once[@]}"
