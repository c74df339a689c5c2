#!/usr/bin/env bash
# Paired comparison: two or more vmprobe runners at once on the same fake host (and bench/floor --keep-open beside
# them), CPU of each over the same window, so a change is judged against the previous build under the same load.
#
#   bench/pair.sh [-n N] [--vcpus T] [--delay-ms MS] [--settle S] [--seconds S] [--no-floor] RUNNER [RUNNER...]
#
# Defaults: 10 fake VMs x 4 vCPUs, delay 200 ms, 40 s settling, a 120 s window. CPU is each process' CPU-time clock
# (bench/cpuns.c: ns, exited threads included); cycles are counted from each runner's probe_last_cycle_timestamp
# over the window. Prints per runner: us per cycle, its ratio to the first runner, series written, and whether its
# series names and labels equal the first runner's. Root is needed (perf_event_open on the fakes' threads).
# Run one at a time: each run rebuilds the helpers in bench/out (two at once gave no result here).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_OUT="$BENCH_DIR/out"
source "$BENCH_DIR/lib.sh"

count=10 vcpus=4 delay_ms=200 settle=40 seconds=120 floor=1 runners=()
while (($#)); do
    case "$1" in
        -n) count="$2"; shift 2 ;;
        --vcpus) vcpus="$2"; shift 2 ;;
        --delay-ms) delay_ms="$2"; shift 2 ;;
        --settle) settle="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --no-floor) floor=0; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "pair.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
        *) [[ -x "$1" ]] || { echo "pair.sh: '$1' is not an executable" >&2; exit 2; }; runners+=("$1"); shift ;;
    esac
done
((${#runners[@]} >= 1)) || { echo "pair.sh: name at least one runner (see --help)" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "pair.sh: run as root (perf_event_open on other processes' threads)" >&2; exit 1; }

WORK="$BENCH_OUT/pair.$$"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    fake_stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_build_helpers
mkdir -p "$WORK"
fake_start_many "$count" "$vcpus" "$((settle + seconds + 60))" "$(awk -v n="$count" -v t="$vcpus" 'BEGIN { printf "%.6f", 0.2 / (n * t) }')"

stamp() { grep -m1 '^vmprobe_probe_last_cycle_timestamp_seconds' "$1" 2>/dev/null | awk '{ print $2 }' || true; }
for i in "${!runners[@]}"; do
    mkdir -p "$WORK/r$i"
    sed -e "s|@DELAY@|$delay_ms|" -e "s|@ENDPOINT@|$WORK/r$i/vmprobe.prom|" "$BENCH_DIR/vmprobe-bench.yaml" >"$WORK/r$i/vmprobe.yaml"
    "${runners[$i]}" --config "$WORK/r$i/vmprobe.yaml" --log-level warning >/dev/null 2>"$WORK/r$i/log" &
    PIDS+=($!)
done
sleep "$settle"
floor_pid=""
if ((floor)); then
    # shellcheck disable=SC2046
    "$BENCH_OUT/floor" --keep-open --host-groups --cycles "$((seconds * 1000 / delay_ms - 10))" --warmup 5 --delay-ms "$delay_ms" --events 4 \
        --out "$WORK/floor.prom" --out-size "$((300 * count * (vcpus + 4)))" $(fake_pids) >"$WORK/floor.out" 2>&1 &
    floor_pid=$!
fi
declare -a c0 c1 s0 s1
for i in "${!runners[@]}"; do s0[$i]="$(stamp "$WORK/r$i/vmprobe.prom")"; done
mapfile -t c0 < <("$BENCH_OUT/cpuns" "${PIDS[@]}")
sleep "$seconds"
mapfile -t c1 < <("$BENCH_OUT/cpuns" "${PIDS[@]}")
for i in "${!runners[@]}"; do s1[$i]="$(stamp "$WORK/r$i/vmprobe.prom")"; done
[[ -z "$floor_pid" ]] || wait "$floor_pid" || true

echo "pair: $count fake VMs x $vcpus vCPUs, delay $delay_ms ms, ${seconds} s window after ${settle} s, load $(cut -d' ' -f1-3 /proc/loadavg)"
base_us=""
for i in "${!runners[@]}"; do
    f="$WORK/r$i/vmprobe.prom"
    [[ "${c1[$i]}" != "-" && -n "${s0[$i]}" ]] || { echo "  ${runners[$i]}: exited or wrote nothing (log: $(tail -3 "$WORK/r$i/log"))"; continue; }
    cycles="$(awk -v a="${s0[$i]}" -v b="${s1[$i]}" -v d="$delay_ms" 'BEGIN { printf "%d", (b - a) * 1000 / d + 0.5 }')"
    us="$(awk -v a="${c0[$i]}" -v b="${c1[$i]}" -v k="$cycles" 'BEGIN { printf "%.1f", (b - a) / 1000 / k }')"
    base_us="${base_us:-$us}"
    grep -v '^#' "$f" | sed 's/ [^ ]*$//' | sort >"$WORK/r$i/keys"
    same="same series as the first"
    cmp -s "$WORK/r0/keys" "$WORK/r$i/keys" || same="series DIFFER from the first: $(diff "$WORK/r0/keys" "$WORK/r$i/keys" | grep -c '^[<>]') lines"
    printf '  %-50s %8s us/cycle (%s cycles) %s x  %s series, %s\n' "${runners[$i]}" "$us" "$cycles" \
        "$(awk -v a="$us" -v b="$base_us" 'BEGIN { printf "%.3f", a / b }')" "$(wc -l <"$WORK/r$i/keys")" "$same"
done
[[ -z "$floor_pid" ]] || echo "  floor --keep-open: $(grep '^floor_result' "$WORK/floor.out" | sed 's/.*cpu_us_per_cycle=\([0-9.]*\).*/\1/') us/cycle"
