#!/usr/bin/env bash
# KVM stats fds against schedstat (issue 12's cost target): CPU per cycle of reading the KVM binary statistics of
# N VMs x T vCPUs (tmpfs files holding x86-sized blobs, read with the engine's KvmStatsFd: one pread of the data block
# each) and of reading the schedstat files of as many vCPU threads of N fake QEMUs (bench/fakeqemu.c), kept open and
# re-read with pread as the procfs source does today. bench/kvmstats/Program.cs is the measuring program.
#
#   bench/kvmstats.sh [-n N] [--vcpus T] [--cycles K] [--warmup W]      (also: bench/run --kvmstats ...)
#
# Defaults: 200 VMs x 4 vCPUs, 200 cycles after 50 warm-up cycles. Root is not needed.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_OUT="$BENCH_DIR/out"
source "$BENCH_DIR/lib.sh"

count=200 vcpus=4 cycles=200 warmup=50
while (($#)); do
    case "$1" in
        -n) count="$2"; shift 2 ;;
        --vcpus) vcpus="$2"; shift 2 ;;
        --cycles) cycles="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/kvmstats.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

trap 'fake_stop_all' EXIT
trap 'exit 130' INT TERM
[[ -x "$BENCH_OUT/qemu-system-x86_64" && "$BENCH_OUT/qemu-system-x86_64" -nt "$BENCH_DIR/fakeqemu.c" ]] || bench_build_helpers
dotnet build "$BENCH_DIR/kvmstats/KvmStatsBench.csproj" -c Release -o "$BENCH_OUT/kvmstats" --nologo -v quiet >"$BENCH_OUT/kvmstats-build.log" 2>&1 \
    || { tail -20 "$BENCH_OUT/kvmstats-build.log" >&2; exit 1; }
# The fakes idle (0.2 CPU over all vCPUs) for longer than the measurement can take.
fake_start_many "$count" "$vcpus" 600 "$(awk -v n="$count" -v t="$vcpus" 'BEGIN { printf "%.6f", 0.2 / (n * t) }')"
dotnet "$BENCH_OUT/kvmstats/KvmStatsBench.dll" --pids "$(fake_pids)" --vcpus "$vcpus" --cycles "$cycles" --warmup "$warmup"
