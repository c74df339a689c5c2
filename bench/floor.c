/*
 * floor: the least CPU one collection cycle can cost for a given host, as a baseline for vmprobe.
 * It does only the unavoidable syscalls of a cycle and no formatting or parsing beyond a byte count:
 *
 *   setup (not measured): for every thread of every PID given, one perf event group (pid=TID, cpu=-1) of the
 *     same software events vmprobe counts (task-clock leader; context-switches, page-faults, cpu-migrations),
 *     read_format PERF_FORMAT_GROUP|ID|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING.
 *   per cycle: one read() per group; open/read/close of /proc/PID/task/TID/schedstat per thread; the host
 *     files (/proc/stat, /proc/meminfo, /proc/loadavg); one write+fsync+rename of a file of --out-size bytes.
 *   --host-groups: also one system-wide group of the same events per online CPU (pid=-1, cpu=N), read each cycle,
 *     as vmprobe reads for its host totals (reading a group counting on another CPU costs an IPI to that CPU).
 *
 * CPU time is the process' CPU-time clock (CLOCK_PROCESS_CPUTIME_ID, ns), from after --warmup cycles to the end, divided by --cycles.
 *
 *   floor [--cycles N] [--warmup N] [--delay-ms MS] [--events E] [--out FILE] [--out-size BYTES] [--keep-open] [--host-groups] PID...
 *
 * --keep-open: keep every schedstat file open and pread() it at offset 0 each cycle instead of open/read/close
 * (one more fd per thread): shows what the per-thread open costs.
 *
 * Prints a human line and a machine line: "floor_result threads=.. groups=.. cycles=.. cpu_us_per_cycle=..".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct task {
    int pid;
    int tid;
    int group_fd;
    int schedstat_fd; /* --keep-open only */
};

static const uint64_t software_events[] = {
    PERF_COUNT_SW_TASK_CLOCK,
    PERF_COUNT_SW_CONTEXT_SWITCHES,
    PERF_COUNT_SW_PAGE_FAULTS,
    PERF_COUNT_SW_CPU_MIGRATIONS,
};

static int open_event_on(int tid, int cpu, uint64_t config, int group_fd)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = config;
    attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &attr, tid, cpu, group_fd, PERF_FLAG_FD_CLOEXEC);
}

static int open_event(int tid, uint64_t config, int group_fd)
{
    return open_event_on(tid, -1, config, group_fd);
}

/* The online CPUs (/sys/devices/system/cpu/online, "0-3,6"): ids need not be 0..n-1 (offline CPUs, nosmt). */
static long online_cpus(int *ids, long cap)
{
    char list[4096];
    FILE *f = fopen("/sys/devices/system/cpu/online", "re");
    if (!f || !fgets(list, sizeof list, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    long n = 0;
    for (char *p = list; *p && *p != '\n';) {
        long lo = strtol(p, &p, 10), hi = lo;
        if (*p == '-')
            hi = strtol(p + 1, &p, 10);
        for (long c = lo; c <= hi && n < cap; c++)
            ids[n++] = (int)c;
        if (*p == ',')
            p++;
    }
    return n;
}

static long read_whole(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf + total, size - (size_t)total);
        if (n <= 0)
            break;
        total += n;
        if ((size_t)total == size)
            total = 0; /* keep reading into the same buffer: only the syscalls matter */
    }
    close(fd);
    return total;
}

/* The process' CPU-time clock (ns): the same clock bench/cpuns.c reads for vmprobe and perf stat. */
static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: floor [--cycles N] [--warmup N] [--delay-ms MS] [--events 1..4] [--out FILE] [--out-size BYTES] [--keep-open] [--host-groups] PID...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long cycles = 50, warmup = 3, delay_ms = 200, events = 4, out_size = 65536, keep_open = 0, host_groups = 0;
    const char *out = "/tmp/vmprobe-floor.prom";
    int first_pid = argc;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            first_pid = i;
            break;
        }
        if (strcmp(argv[i], "--keep-open") == 0) {
            keep_open = 1;
            continue;
        }
        if (strcmp(argv[i], "--host-groups") == 0) {
            host_groups = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--cycles") == 0) cycles = atol(v);
        else if (strcmp(argv[i - 1], "--warmup") == 0) warmup = atol(v);
        else if (strcmp(argv[i - 1], "--delay-ms") == 0) delay_ms = atol(v);
        else if (strcmp(argv[i - 1], "--events") == 0) events = atol(v);
        else if (strcmp(argv[i - 1], "--out") == 0) out = v;
        else if (strcmp(argv[i - 1], "--out-size") == 0) out_size = atol(v);
        else usage();
    }
    if (first_pid >= argc || cycles < 1 || warmup < 0 || delay_ms < 0 || events < 1 || events > 4 || out_size < 1)
        usage();

    /* Threads of every PID, once (discovery is not part of the floor). */
    size_t cap = 1024, count = 0;
    struct task *tasks = malloc(cap * sizeof *tasks);
    for (int a = first_pid; a < argc; a++) {
        int pid = atoi(argv[a]);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", pid);
        DIR *dir = opendir(path);
        if (!dir) {
            fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            if (count == cap)
                tasks = realloc(tasks, (cap *= 2) * sizeof *tasks);
            tasks[count].pid = pid;
            tasks[count].tid = atoi(e->d_name);
            tasks[count].group_fd = -1;
            tasks[count].schedstat_fd = -1;
            count++;
        }
        closedir(dir);
    }

    size_t groups = 0;
    for (size_t t = 0; t < count; t++) {
        int leader = open_event(tasks[t].tid, software_events[0], -1);
        if (leader < 0) {
            fprintf(stderr, "floor: perf_event_open(tid %d): %s\n", tasks[t].tid, strerror(errno));
            return 1;
        }
        for (long e = 1; e < events; e++) {
            if (open_event(tasks[t].tid, software_events[e], leader) < 0) {
                fprintf(stderr, "floor: perf_event_open(tid %d, member %ld): %s\n", tasks[t].tid, e, strerror(errno));
                return 1;
            }
        }
        tasks[t].group_fd = leader;
        groups++;
        if (keep_open) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", tasks[t].pid, tasks[t].tid);
            tasks[t].schedstat_fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    }

    static int cpu_ids[8192], host_fds[8192];
    long cpus = host_groups ? online_cpus(cpu_ids, 8192) : 0;
    if (cpus < 0) {
        fprintf(stderr, "floor: /sys/devices/system/cpu/online: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < cpus; i++) {
        host_fds[i] = open_event_on(-1, cpu_ids[i], software_events[0], -1);
        if (host_fds[i] < 0) {
            fprintf(stderr, "floor: perf_event_open(cpu %d): %s\n", cpu_ids[i], strerror(errno));
            return 1;
        }
        for (long e = 1; e < events; e++) {
            if (open_event_on(-1, cpu_ids[i], software_events[e], host_fds[i]) < 0) {
                fprintf(stderr, "floor: perf_event_open(cpu %d, member %ld): %s\n", cpu_ids[i], e, strerror(errno));
                return 1;
            }
        }
    }

    char *payload = malloc((size_t)out_size);
    memset(payload, 'x', (size_t)out_size);
    payload[out_size - 1] = '\n';
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    static const char *host_files[] = { "/proc/stat", "/proc/meminfo", "/proc/loadavg" };
    static char buf[65536];
    uint64_t group_buf[3 + 2 * 4];
    unsigned long long checksum = 0;
    double start = 0;
    /* Where the time goes, per phase (thread CPU clock; this program is single-threaded). */
    double phase[2] = { 0, 0 }, mark = 0, perf_us = 0, host_us = 0;

    for (long c = 0; c < warmup + cycles; c++) {
        if (c == warmup)
            start = cpu_us();
        mark = thread_cpu_us();
        for (size_t t = 0; t < count; t++) {
            if (read(tasks[t].group_fd, group_buf, sizeof group_buf) > 0)
                checksum += group_buf[3];
        }
        double host_mark = thread_cpu_us();
        for (long i = 0; i < cpus; i++) {
            if (read(host_fds[i], group_buf, sizeof group_buf) > 0)
                checksum += group_buf[3];
        }
        if (c >= warmup) {
            perf_us += thread_cpu_us() - mark;
            host_us += thread_cpu_us() - host_mark;
        }
        for (size_t t = 0; t < count; t++) {
            long n;
            if (keep_open) {
                /* The alternative to open/read/close: one pread at offset 0 on a descriptor kept open. */
                n = pread(tasks[t].schedstat_fd, buf, sizeof buf, 0);
            } else {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", tasks[t].pid, tasks[t].tid);
                n = read_whole(path, buf, sizeof buf);
            }
            checksum += n > 0 ? (unsigned long long)n : 0;
        }
        for (size_t h = 0; h < sizeof host_files / sizeof host_files[0]; h++)
            checksum += (unsigned long long)read_whole(host_files[h], buf, sizeof buf);
        if (c >= warmup)
            phase[0] += thread_cpu_us() - mark;
        mark = thread_cpu_us();

        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, payload, (size_t)out_size) != out_size || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, out) != 0) {
            fprintf(stderr, "floor: writing %s: %s\n", out, strerror(errno));
            return 1;
        }
        if (c >= warmup)
            phase[1] += thread_cpu_us() - mark;
        if (delay_ms > 0 && c + 1 < warmup + cycles)
            sleep_ms(delay_ms);
    }
    double per_cycle = (cpu_us() - start) / (double)cycles;
    printf("floor: %zu threads, %zu groups x %ld events, %ld cycles, %.1f us CPU per cycle (checksum %llu)\n",
           count, groups, events, cycles, per_cycle, checksum % 1000);
    printf("floor: per cycle %.1f us reading (of which %.1f us perf group reads; the rest schedstat and host files), %.1f us writing (write+fsync+rename of %ld bytes)\n",
           phase[0] / (double)cycles, perf_us / (double)cycles, phase[1] / (double)cycles, out_size);
    printf("floor_result threads=%zu groups=%zu events=%ld cycles=%ld cpu_us_per_cycle=%.1f read_us=%.1f perf_read_us=%.1f write_us=%.1f host_groups=%ld host_read_us=%.1f\n", count, groups,
           events, cycles, per_cycle, phase[0] / (double)cycles, perf_us / (double)cycles, phase[1] / (double)cycles, cpus, host_us / (double)cycles);
    unlink(out);
    return 0;
}
