#!/usr/bin/env bash
# Warm-up profile (issue #14 item 3): the CPU a freshly started vmprobe spends per window over its first minutes
# against its steady state, for several publishing flavours at once on one fake host.
#
#   bench/run --warmup-profile [options]      (or bench/warmup.sh [options])
#
# The flavours run side by side (started together, sampled at the same instants), so each window of each flavour
# saw the same machine load: the pairing holds on a shared machine where sequential runs would not.
# CPU = utime+stime of /proc/PID/stat (includes exited threads such as the JIT's background worker).
#
# Options:
#   --flavors "jit aot"   publishing flavours (jit, r2r, aot; see bench/run --flavor), published to bench/out/vmprobe-F
#   --no-publish          reuse bench/out/vmprobe-F
#   -n N                  fake VMs (default 50), --vcpus T (default 4), --host-load CPUS (default 0.2)
#   --delay-ms MS         collection delay (default 200)
#   --window S            window length (default 10), --profile-seconds P (default 120): the windows reported
#   --steady-seconds S    the steady state: the mean over [P+settle, P+settle+S) (default 60), --settle S (default 60)
#   --once-n N            then `vmprobe --once` of each flavour at N fake VMs (default 200; 0 skips), --once-runs R (5)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH_DIR")"
BENCH_OUT="$BENCH_DIR/out"
WORK="$BENCH_OUT/warmup"
source "$BENCH_DIR/lib.sh"

flavors="jit aot" publish=1 n=50 vcpus=4 host_load=0.2 delay_ms=200 window=10 profile=120 steady=60 settle=60
once_n=200 once_runs=5
while (($#)); do
    case "$1" in
        --flavors) flavors="$2"; shift 2 ;;
        --no-publish) publish=0; shift ;;
        -n) n="$2"; shift 2 ;;
        --vcpus) vcpus="$2"; shift 2 ;;
        --host-load) host_load="$2"; shift 2 ;;
        --delay-ms) delay_ms="$2"; shift 2 ;;
        --window) window="$2"; shift 2 ;;
        --profile-seconds) profile="$2"; shift 2 ;;
        --steady-seconds) steady="$2"; shift 2 ;;
        --settle) settle="$2"; shift 2 ;;
        --once-n) once_n="$2"; shift 2 ;;
        --once-runs) once_runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/warmup.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
((window > 0 && profile >= window && steady >= window)) || { echo "bench/warmup.sh: need --window > 0, --profile-seconds and --steady-seconds >= --window" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "bench/warmup.sh: run as root (perf_event_open on other processes' threads)" >&2; exit 1; }

declare -A PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    fake_stop_all
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { echo "bench/warmup.sh: $*" >&2; exit 1; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
TICK_MS=$((1000 / $(getconf CLK_TCK)))
duty() { awk -v n="$1" -v t="$vcpus" -v l="$host_load" 'BEGIN { printf "%.6f", l / (n * t) }'; }

bench_build_helpers
for f in $flavors; do
    args="$(flavor_publish_args "$f")" || die "--flavors: '$f' is not jit, r2r or aot"
    if ((publish)); then
        log "publishing $f: dotnet publish src/VmProbe.Cli -c Release -o $BENCH_OUT/vmprobe-$f $args"
        # shellcheck disable=SC2086
        dotnet publish "$REPO/src/VmProbe.Cli" -c Release -o "$BENCH_OUT/vmprobe-$f" --nologo -v quiet $args >"$BENCH_OUT/publish-$f.log" 2>&1 \
            || { tail -20 "$BENCH_OUT/publish-$f.log" >&2; die "dotnet publish ($f) failed"; }
    fi
    [[ -x "$BENCH_OUT/vmprobe-$f/vmprobe" ]] || die "$BENCH_OUT/vmprobe-$f/vmprobe is not an executable"
done
rm -rf "$WORK"
mkdir -p "$WORK"
config() { # config NAME: a config writing $WORK/NAME.prom
    sed -e "s|@DELAY@|$delay_ms|" -e "s|@ENDPOINT@|$WORK/$1.prom|" "$BENCH_DIR/vmprobe-bench.yaml" >"$WORK/$1.yaml"
    echo "$WORK/$1.yaml"
}

total=$((profile + settle + steady))
log "N=$n fake VMs x $vcpus vCPUs; flavours '$flavors' side by side for ${total}s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
fake_start_many "$n" "$vcpus" $((total + 600)) "$(duty "$n")"
# The discovery inspects a QEMU process in full every cycle during its first 10 s (ProcessDomainDiscovery.YoungSeconds:
# a young QEMU may still be naming its vCPU threads), which at 200 fakes started together is ~40 ms a cycle: wait it
# out, so that the windows show the runner's warm-up and not the fakes' youth (a host's VMs are not all seconds old).
settle_fakes() { sleep 11; }
settle_fakes
declare -A T=()  # T[flavour,second]: CPU ticks at that second after the start
started=$(ms_now)
for f in $flavors; do
    "$BENCH_OUT/vmprobe-$f/vmprobe" --config "$(config "$f")" --log-level warning >"$WORK/$f.out" 2>"$WORK/$f.log" &
    PIDS[$f]=$!
done
for f in $flavors; do T[$f,0]=0; done  # a process starts at 0 CPU
marks=()
for ((s = window; s <= profile; s += window)); do marks+=("$s"); done
marks+=($((profile + settle)) $((profile + settle + steady)))
for s in "${marks[@]}"; do
    left=$((started + s * 1000 - $(ms_now)))
    ((left <= 0)) || sleep "$(awk -v l="$left" 'BEGIN { printf "%.3f", l / 1000 }')"
    for f in $flavors; do
        kill -0 "${PIDS[$f]}" 2>/dev/null || { tail -5 "$WORK/$f.log" >&2; die "vmprobe ($f) exited"; }
        T[$f,$s]="$(proc_cpu_ticks "${PIDS[$f]}")"
    done
done
loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
for f in $flavors; do
    domains="$({ grep -m1 '^vmprobe_probe_domains' "$WORK/$f.prom" || true; } | awk '{ print $2 }')"
    [[ "$domains" == "$n" ]] || log "warning: $f reported ${domains:-no} probe_domains, expected $n"
    kill -TERM "${PIDS[$f]}" 2>/dev/null || true
done
for f in $flavors; do wait "${PIDS[$f]}" 2>/dev/null || true; done
PIDS=()

# CPU ms per second in a window, and its ratio to the steady state.
rate() { awk -v a="$1" -v b="$2" -v s="$3" -v t="$TICK_MS" 'BEGIN { printf "%.1f", (b - a) * t / s }'; }
echo
echo "## Warm-up profile: N=$n fake VMs x $vcpus vCPUs, delay ${delay_ms} ms, flavours side by side (load average at the end $loadavg)"
echo
echo "CPU ms per second in each ${window}-s window since start; steady = mean over [$((profile + settle)), $total) s; ratio = window / steady."
echo
printf '| window (s) |'; for f in $flavors; do printf ' %s ms/s | %s ratio |' "$f" "$f"; done; echo
printf '|---|'; for f in $flavors; do printf -- '---:|---:|'; done; echo
declare -A STEADY=()
for f in $flavors; do STEADY[$f]="$(rate "${T[$f,$((profile + settle))]}" "${T[$f,$total]}" "$steady")"; done
prev=0
for ((s = window; s <= profile; s += window)); do
    printf '| %s-%s |' "$prev" "$s"
    for f in $flavors; do
        r="$(rate "${T[$f,$prev]}" "${T[$f,$s]}" "$window")"
        printf ' %s | %s |' "$r" "$(awk -v r="$r" -v s="${STEADY[$f]}" 'BEGIN { printf (s > 0 ? "%.2f" : "-"), r / s }')"
    done
    echo
    prev=$s
done
printf '| steady |'; for f in $flavors; do printf ' %s | 1.00 |' "${STEADY[$f]}"; done; echo
echo
for f in $flavors; do
    m60="$(rate 0 "${T[$f,60]:-0}" 60)" m120="$(rate 0 "${T[$f,$profile]}" "$profile")"
    echo "$f: first 60 s $(awk -v r="$m60" -v s="${STEADY[$f]}" 'BEGIN { printf "%.2f", r / s }')x steady," \
        "first $profile s $(awk -v r="$m120" -v s="${STEADY[$f]}" 'BEGIN { printf "%.2f", r / s }')x steady (steady ${STEADY[$f]} ms/s)"
done
fake_stop_all

((once_n > 0)) || exit 0
log "N=$once_n: vmprobe --once, $once_runs runs per flavour, alternating"
fake_start_many "$once_n" "$vcpus" 600 "$(duty "$once_n")"
settle_fakes
declare -A WALLS=() CPUS=()  # on a loaded machine the wall time is mostly waiting for a core: CPU time says more
for ((i = 0; i < once_runs; i++)); do
    for f in $flavors; do
        line="$("$BENCH_OUT/runstat" "$BENCH_OUT/vmprobe-$f/vmprobe" --config "$(config "once-$f")" --once --log-level warning 2>&1 >/dev/null | grep '^runstat_result')"
        [[ "$line" == *" exit=0 "* ]] || die "vmprobe --once ($f) failed: $line"
        WALLS[$f]+="$(sed -n 's/.*wall_ms=\([0-9.]*\).*/\1/p' <<<"$line") "
        CPUS[$f]+="$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } } END { printf "%.0f", v["user_ms"] + v["sys_ms"] }' <<<"$line") "
    done
done
echo
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "min %.0f / median %.0f / max %.0f", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
for f in $flavors; do
    echo "$f: vmprobe --once at N=$once_n (delay $delay_ms): wall ms $(stats "${WALLS[$f]}"), CPU (user+sys) ms $(stats "${CPUS[$f]}") (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
