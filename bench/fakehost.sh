#!/usr/bin/env bash
# Starts N fake QEMU processes (bench/fakeqemu.c) so a small machine looks like a KVM host with many small VMs,
# keeps them for --seconds, then stops them (also on Ctrl-C/SIGTERM). Every fake also exits by itself.
#
#   bench/fakehost.sh [-n N] [--vcpus T] [--seconds S] [--duty FRACTION]
#
# Defaults: 10 VMs x 4 vCPUs for 120 s; duty = 0.2 CPU spread over all vCPU threads.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_OUT="$BENCH_DIR/out"
source "$BENCH_DIR/lib.sh"

count=10 vcpus=4 seconds=120 duty=""
while (($#)); do
    case "$1" in
        -n) count="$2"; shift 2 ;;
        --vcpus) vcpus="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --duty) duty="$2"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fakehost.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -n "$duty" ]] || duty="$(awk -v n="$count" -v t="$vcpus" 'BEGIN { printf "%.6f", 0.2 / (n * t) }')"

trap 'fake_stop_all' EXIT
trap 'exit 130' INT TERM
[[ -x "$BENCH_OUT/qemu-system-x86_64" && "$BENCH_OUT/qemu-system-x86_64" -nt "$BENCH_DIR/fakeqemu.c" ]] || bench_build_helpers
fake_start_many "$count" "$vcpus" "$((seconds + 5))" "$duty"
echo "fakehost: $count fake VMs x $vcpus vCPUs (duty $duty) for ${seconds}s: pids $(fake_pids)"
sleep "$seconds" &
wait $! || true
