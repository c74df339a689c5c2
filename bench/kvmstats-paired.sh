#!/usr/bin/env bash
# What `kvmstats` costs the runner (issue #14 item 4: "with kvmstats on no more than +10 %"): runners that differ only
# in `kvmstats` run at once on the same fake host (bench/fakeqemu.c), and each one's CPU is taken over the same
# windows, so every window's ratio saw the same machine load (the pairing holds on a shared machine where sequential
# runs would not). A third runner with kvmstats off (the control) shows what two identical runners differ by.
#
#   bench/kvmstats-paired.sh [options]
#
# CPU = utime+stime of /proc/PID/stat (10 ms ticks; counts exited threads too, which the sum of the threads'
# schedstat would miss); per cycle = over the cycles the runner ran in the window: grid ticks passed minus the ticks
# it logged as skipped after a cycle longer than the delay (a loaded host skips many, and not alike for each runner).
# Then, with --strace-seconds S > 0, `strace -c -f` on each runner for S seconds: the system calls the on-case adds,
# per written cycle (one rename per cycle).
#
# Options:
#   -n N                fake VMs (default 200), --vcpus T (default 4), --host-load CPUS (default 0.2)
#   --delay-ms MS       collection delay (default 200)
#   --windows K         windows (default 5), --window-seconds S (default 60), --warmup-seconds S (default 40)
#   --modes "vm off"    the kvmstats value of each runner, in this order (default "vm off off": on, off, control)
#   --flavor F          bench/out/vmprobe-F/vmprobe (default aot, what setup.sh installs; bench/run --flavor F publishes it)
#   --strace-seconds S  default 30; 0 skips
# Root is needed (perf_event_open on other processes' threads). Everything it starts is stopped on exit.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_OUT="$BENCH_DIR/out"
WORK="$BENCH_OUT/kvmstats-paired"
source "$BENCH_DIR/lib.sh"

n=200 vcpus=4 host_load=0.2 delay_ms=200 windows=5 window_s=60 warmup_s=40 modes="vm off off" flavor=aot strace_s=30
while (($#)); do
    case "$1" in
        -n) n="$2"; shift 2 ;;
        --vcpus) vcpus="$2"; shift 2 ;;
        --host-load) host_load="$2"; shift 2 ;;
        --delay-ms) delay_ms="$2"; shift 2 ;;
        --windows) windows="$2"; shift 2 ;;
        --window-seconds) window_s="$2"; shift 2 ;;
        --warmup-seconds) warmup_s="$2"; shift 2 ;;
        --modes) modes="$2"; shift 2 ;;
        --flavor) flavor="$2"; shift 2 ;;
        --strace-seconds) strace_s="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "kvmstats-paired.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
vmprobe="$BENCH_OUT/vmprobe-$flavor/vmprobe"
[[ -x "$vmprobe" ]] || { echo "kvmstats-paired.sh: $vmprobe missing: publish it with bench/run --flavor $flavor --quick" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "kvmstats-paired.sh: run as root" >&2; exit 1; }
read -r -a mode_list <<<"$modes"

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    fake_stop_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

[[ -x "$BENCH_OUT/qemu-system-x86_64" && "$BENCH_OUT/qemu-system-x86_64" -nt "$BENCH_DIR/fakeqemu.c" ]] || bench_build_helpers
rm -rf "$WORK"
mkdir -p "$WORK"
duty="$(awk -v n="$n" -v t="$vcpus" -v l="$host_load" 'BEGIN { printf "%.6f", l / (n * t) }')"
total_s=$((warmup_s + windows * window_s + 2 * strace_s + 120))
log "starting $n fake VMs x $vcpus vCPUs (named kvp-vmN)"
for ((i = 1; i <= n; i++)); do fake_start "kvp-vm$i" "$vcpus" "$total_s" "$duty"; done

# The runners: bench/vmprobe-bench.yaml plus `kvmstats: MODE`, one textfile each.
for r in "${!mode_list[@]}"; do
    sed -e "s|@DELAY@|$delay_ms|" -e "s|@ENDPOINT@|$WORK/r$r/vmprobe.prom|" "$BENCH_DIR/vmprobe-bench.yaml" >"$WORK/r$r.yaml"
    echo "kvmstats: ${mode_list[$r]}" >>"$WORK/r$r.yaml"
    mkdir -p "$WORK/r$r"
    "$vmprobe" --config "$WORK/r$r.yaml" --log-level info >"$WORK/r$r.out" 2>"$WORK/r$r.log" &
    PIDS+=($!)
done
log "runners: ${mode_list[*]} (pids ${PIDS[*]}), delay ${delay_ms} ms; warm-up ${warmup_s}s"
prom_value() { { grep -m1 "^vmprobe_$2 " "$WORK/r$1/vmprobe.prom" 2>/dev/null || true; } | awk '{ print $2 }'; }
sleep "$warmup_s"
for r in "${!mode_list[@]}"; do # every runner has written a cycle before the first window
    for ((i = 0; i < 600; i++)); do [[ -n "$(prom_value "$r" probe_last_cycle_timestamp_seconds)" ]] && break; sleep 0.5; done
done
skipped_ticks() { grep -o 'skipped [0-9]* tick' "$WORK/r$1.log" 2>/dev/null | awk '{ s += $2 } END { print s + 0 }'; }
snapshot() { # snapshot R: "ticks last_cycle_ts skipped_ticks" of runner R
    kill -0 "${PIDS[$1]}" 2>/dev/null || { tail -5 "$WORK/r$1.log" >&2; echo "kvmstats-paired.sh: runner $1 exited" >&2; exit 1; }
    echo "$(proc_cpu_ticks "${PIDS[$1]}") $(prom_value "$1" probe_last_cycle_timestamp_seconds) $(skipped_ticks "$1")"
}
tick_us=$((1000000 / $(getconf CLK_TCK)))

header="window"
for r in "${!mode_list[@]}"; do header+=" | r$r ${mode_list[$r]} µs/cycle (cycles)"; done
for ((r = 1; r < ${#mode_list[@]}; r++)); do header+=" | r0/r$r"; done
echo "| $header | domains | load |"
declare -A sum_ns sum_cycles
for ((w = 1; w <= windows; w++)); do
    declare -a before=() after=()
    for r in "${!mode_list[@]}"; do before[r]="$(snapshot "$r")"; done
    sleep "$window_s"
    for r in "${!mode_list[@]}"; do after[r]="$(snapshot "$r")"; done
    row="$w" per=()
    for r in "${!mode_list[@]}"; do
        read -r t0 c0 k0 <<<"${before[r]}"
        read -r t1 c1 k1 <<<"${after[r]}"
        cycles="$(awk -v a="$c0" -v b="$c1" -v d="$delay_ms" -v k="$((k1 - k0))" 'BEGIN { printf "%d", (b - a) * 1000 / d + 0.5 - k }')"
        ((cycles > 0)) || { echo "kvmstats-paired.sh: runner $r ran no cycle in window $w" >&2; exit 1; }
        per[r]=$(((t1 - t0) * tick_us / cycles))
        sum_ns[$r]=$((${sum_ns[$r]:-0} + (t1 - t0) * tick_us * 1000)) sum_cycles[$r]=$((${sum_cycles[$r]:-0} + cycles))
        row+=" | ${per[r]} ($cycles)"
    done
    for ((r = 1; r < ${#mode_list[@]}; r++)); do row+=" | $(awk -v a="${per[0]}" -v b="${per[r]}" 'BEGIN { printf "%.3f", a / b }')"; done
    echo "| $row | $(prom_value 0 probe_domains) | $(cut -d' ' -f1 /proc/loadavg) |"
done
row="all"
for r in "${!mode_list[@]}"; do row+=" | $((sum_ns[$r] / 1000 / sum_cycles[$r]))"; done
for ((r = 1; r < ${#mode_list[@]}; r++)); do
    row+=" | $(awk -v a="${sum_ns[0]}" -v ca="${sum_cycles[0]}" -v b="${sum_ns[$r]}" -v cb="${sum_cycles[$r]}" 'BEGIN { printf "%.3f", (a / ca) / (b / cb) }')"
done
echo "| $row | | |"
echo
for r in "${!mode_list[@]}"; do
    echo "r$r (kvmstats: ${mode_list[$r]}): $(grep -c '^vmprobe_domain_kvm' "$WORK/r$r/vmprobe.prom" || true) domain_kvm lines, $(grep -vc '^#' "$WORK/r$r/vmprobe.prom" || true) series," \
        "probe_errors_total sum $({ grep '^vmprobe_probe_errors_total' "$WORK/r$r/vmprobe.prom" || true; } | awk '{ s += $2 } END { print s + 0 }')"
done

((strace_s > 0)) || exit 0
command -v strace >/dev/null || { echo "strace not found (apt-get install strace): no system call counts" >&2; exit 0; }
echo
echo "System calls per cycle over ${strace_s}s (strace -c -f, one runner at a time; strace slows the runner, so no CPU here):"
for r in 0 1; do
    timeout -s INT "$strace_s" strace -c -f -q -p "${PIDS[$r]}" -o "$WORK/strace-r$r.txt" 2>/dev/null || true
    cycles="$(awk '$NF == "rename" { print $4 }' "$WORK/strace-r$r.txt")"
    echo "r$r (kvmstats: ${mode_list[$r]}), $cycles cycles: $(awk -v c="$cycles" 'NF >= 5 && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $4 ~ /^[0-9]+$/ {
        printf "%s %.1f, ", $NF, $4 / (c > 0 ? c : 1) }' "$WORK/strace-r$r.txt" | sed 's/, $//')"
done
