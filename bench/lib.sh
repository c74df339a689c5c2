# Functions shared by bench/run and bench/fakehost.sh (sourced, not run). Needs: BENCH_OUT (build dir).
# Fake VMs are tracked in FAKE_PIDS (pid by name); fake_stop_all kills exactly those pids.

declare -gA FAKE_PIDS=()
FAKE_SEQ=0

bench_build_helpers() {
    local src="$BENCH_DIR" flags=(-O2 -Wall -Wextra)
    command -v gcc >/dev/null || { echo "bench: gcc not found (apt-get install gcc)" >&2; return 1; }
    mkdir -p "$BENCH_OUT"
    gcc "${flags[@]}" -pthread -o "$BENCH_OUT/qemu-system-x86_64" "$src/fakeqemu.c"
    gcc "${flags[@]}" -o "$BENCH_OUT/floor" "$src/floor.c"
    gcc "${flags[@]}" -o "$BENCH_OUT/runstat" "$src/runstat.c"
    gcc "${flags[@]}" -o "$BENCH_OUT/cpuns" "$src/cpuns.c"
}

# fake_start NAME VCPUS SECONDS DUTY: starts one fake QEMU, waits for its "ready" line, records its pid.
fake_start() {
    local name="$1" vcpus="$2" seconds="$3" duty="$4" ready="$BENCH_OUT/fake/$1.ready"
    local uuid
    mkdir -p "$BENCH_OUT/fake"
    uuid="$(cat /proc/sys/kernel/random/uuid)"
    : >"$ready"
    "$BENCH_OUT/qemu-system-x86_64" -name "guest=$name,debug-threads=on" -uuid "$uuid" -smp "$vcpus" \
        -m 128 -machine pc,accel=kvm -nodefaults -nographic \
        -fake-seconds "$seconds" -fake-duty "$duty" -fake-period-ms 100 >"$ready" 2>&1 &
    local pid=$! i
    for ((i = 0; i < 500; i++)); do
        [[ -s "$ready" ]] && break
        sleep 0.01
    done
    if ! grep -q "^ready $pid\$" "$ready"; then
        echo "bench: fake VM $name (pid $pid) did not become ready: $(cat "$ready")" >&2
        kill "$pid" 2>/dev/null || true
        return 1
    fi
    FAKE_PIDS["$name"]=$pid
}

# fake_start_many COUNT VCPUS SECONDS DUTY [FIRST_INDEX]: vm1..vmCOUNT (or from FIRST_INDEX).
fake_start_many() {
    local count="$1" vcpus="$2" seconds="$3" duty="$4" first="${5:-1}" i
    for ((i = first; i < first + count; i++)); do
        fake_start "vm$i" "$vcpus" "$seconds" "$duty" || return 1
    done
    FAKE_SEQ=$((first + count - 1))
}

fake_stop() {
    local name="$1" pid="${FAKE_PIDS[$1]:-}"
    [[ -n "$pid" ]] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'FAKE_PIDS[$name]'
}

fake_stop_all() {
    local name
    for name in "${!FAKE_PIDS[@]}"; do
        kill "${FAKE_PIDS[$name]}" 2>/dev/null || true
    done
    for name in "${!FAKE_PIDS[@]}"; do
        wait "${FAKE_PIDS[$name]}" 2>/dev/null || true
    done
    FAKE_PIDS=()
}

# The pids of the running fakes, space separated.
fake_pids() { echo "${FAKE_PIDS[@]}"; }

# Every thread id of the running fakes, comma separated (for perf stat -t).
fake_tids() {
    local pid t out=()
    for pid in "${FAKE_PIDS[@]}"; do
        for t in /proc/"$pid"/task/*; do
            out+=("${t##*/}")
        done
    done
    local IFS=,
    echo "${out[*]}"
}

# proc_cpu_ticks PID: utime+stime in clock ticks from /proc/PID/stat (fields 14 and 15, after the comm).
proc_cpu_ticks() {
    local stat rest
    stat="$(<"/proc/$1/stat")" || return 1
    rest="${stat##*) }"
    read -r -a f <<<"$rest"
    # rest starts at field 3 (state): utime is field 14 -> index 11, stime field 15 -> index 12.
    echo $((f[11] + f[12]))
}

# proc_run_ns PID: the sum of the run time (ns) in every thread's schedstat: precise, but misses exited threads.
proc_run_ns() {
    local sum=0 run rest t
    for t in /proc/"$1"/task/*/schedstat; do
        read -r run rest <"$t" 2>/dev/null && sum=$((sum + run))
    done
    echo "$sum"
}

proc_status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

proc_fds() { local fds=(/proc/"$1"/fd/*); echo "${#fds[@]}"; }

# flavor_publish_args F: the dotnet publish arguments of a publishing flavour (jit, r2r, aot); fails for another word.
# jit: framework-dependent (the default); r2r: ReadyToRun (the crossgen2 NuGet package); aot: NativeAOT (the
# ILCompiler NuGet packages and clang or gcc as the linker).
flavor_publish_args() {
    case "$1" in
        jit) echo "" ;;
        r2r) echo "-r linux-x64 --self-contained false -p:PublishReadyToRun=true" ;;
        aot) echo "-r linux-x64 -p:PublishAot=true" ;;
        *) return 1 ;;
    esac
}

# proc_bpf_fds PID: how many of the process' fds are BPF objects (maps, programs, links, iterators).
proc_bpf_fds() { find "/proc/$1/fd" -lname 'anon_inode:bpf*' 2>/dev/null | wc -l; }

# proc_bpf_maps PID: NAME=ENTRIES for every BPF map the process holds an fd to (map ids from /proc/PID/fdinfo, each id
# once, sorted by name), space separated. Entries by `bpftool -j map dump` for maps user space can walk (hash, LRU hash);
# an array always holds max_entries (NAME=[MAX]; a one-slot array shows its value, NAME=v:VALUE, an array field in it
# as its count of non-zero items); a map user space
# cannot walk (task storage) is NAME=?.
proc_bpf_maps() {
    local fd ids id maps name type count
    ids="$(for fd in $(find "/proc/$1/fd" -lname 'anon_inode:bpf-map' -printf '%f\n' 2>/dev/null); do
        awk '$1 == "map_id:" { print $2 }' "/proc/$1/fdinfo/$fd" 2>/dev/null
    done | sort -un | paste -sd, -)"
    [[ -n "$ids" ]] || return 0
    # One listing of every map on the host, then a dump per walkable map (bpftool forks are slow on a loaded host).
    maps="$(bpftool -j map show 2>/dev/null | jq -r --argjson ids "[$ids]" \
        '.[] | select(.id as $i | $ids | index($i)) | "\(.id) \(.name // "id\(.id)") \(.type) \(.max_entries)"')"
    while read -r id name type count; do
        case "$type" in
            hash | lru_hash | percpu_hash | lru_percpu_hash) count="$(bpftool -j map dump id "$id" 2>/dev/null | jq length)" ;;
            array | percpu_array) # a one-slot array is a counter (ts_created: task-storage blocks ever made): its value
                if [[ "$count" == 1 ]]; then
                    # (an array inside the value, like the task walk's process list, shows as its non-zero length)
                    count="v:$(bpftool -j map dump id "$id" 2>/dev/null | jq -c -r '.[0].formatted.value // .[0].value
                        | if type == "object" then with_entries(if (.value | type) == "array" then .value |= "nonzero:\(map(select(. != 0)) | length)" else . end) else . end
                        | tostring')"
                else
                    count="[$count]"
                fi ;;
            *) count="?" ;;
        esac
        echo "$name=${count:-?}"
    done <<<"$maps" | sort | tr '\n' ' ' | sed 's/ $//'
}

# ratio A B: A/B to two decimals, "-" when either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else printf "-" }'; }

# slope ARRAY-NAME: least-squares us per VM over the N values in $ns (the caller's).
slope() {
    local -n values="$1"
    local pairs="" n
    for n in $ns; do pairs+="$n ${values[$n]} "; done
    awk -v p="$pairs" 'BEGIN { k = split(p, a, " "); m = k / 2; for (i = 1; i <= k; i += 2) { sx += a[i]; sy += a[i+1]; sxx += a[i]*a[i]; sxy += a[i]*a[i+1] }
        d = m * sxx - sx * sx; if (m < 2 || d == 0 || a[2] == "") { printf "-"; exit } printf "%.1f", (m * sxy - sx * sy) / d }'
}

# floor_field LINE KEY: the integer part of KEY=VALUE in a floor_result line (KEY whole: read_us is not perf_read_us).
floor_field() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) printf "%d", substr($i, length(k) + 2) }' <<<"$1"; }

# floor_args BYTES NAME: bench/floor's arguments, one a line, for the fakes with the run's cycles, warm-up and delay, 4
# events and the host-wide groups, writing BYTES per cycle to a file of its own (NAME).
floor_args() {
    printf '%s\n' --host-groups --cycles "$cycles" --warmup "$warmup" --delay-ms "$delay_ms" --events 4 \
        --out "$WORK/textfile/floor-$2.prom" --out-size "$1" "${FAKE_PIDS[@]}"
}

# run_floor BYTES [FLOOR-ARGS...]: runs bench/floor with floor_args and prints its floor_result line.
run_floor() {
    local args
    mapfile -t args < <(floor_args "$1" apart)
    "$BENCH_OUT/floor" "${@:2}" "${args[@]}" | grep '^floor_result'
}

# measure_floor BYTES: the floor, then the floor with schedstat kept open (pread at offset 0: what the per-thread
# open/close costs). Sets F_US, F_READ, F_PERF, F_WRITE, F_THREADS, F_KEEP, F_HOST.
measure_floor() {
    local size="$1" line
    line="$(run_floor "$size")" || die "floor failed"
    F_US="$(floor_field "$line" cpu_us_per_cycle)" F_READ="$(floor_field "$line" read_us)" F_PERF="$(floor_field "$line" perf_read_us)"
    F_WRITE="$(floor_field "$line" write_us)" F_THREADS="$(floor_field "$line" threads)"
    line="$(run_floor "$size" --keep-open)" || die "floor --keep-open failed"
    F_KEEP="$(floor_field "$line" cpu_us_per_cycle)" F_HOST="$(floor_field "$line" host_read_us)"
}
