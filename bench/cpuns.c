/*
 * cpuns: prints the CPU time in nanoseconds of each process given, one number a line, from the process' CPU-time
 * clock (clock_getcpuclockid + clock_gettime): every thread, exited ones included, to the nanosecond. bench/run
 * and bench/pair.sh take it before and after a window of cycles; /proc/PID/stat's utime+stime come in 10 ms ticks
 * (a 200 us resolution per cycle over 50 cycles), and the sum of the threads' schedstat misses exited threads.
 *
 *   cpuns PID [PID...]      (exit 1 when a process is gone: its line is "-")
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: cpuns PID [PID...]\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *end;
        long pid = strtol(argv[i], &end, 10);
        clockid_t clock;
        struct timespec ts;
        if (*argv[i] == '\0' || *end != '\0' || pid <= 0 || clock_getcpuclockid((pid_t)pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) {
            puts("-");
            rc = 1;
            continue;
        }
        printf("%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    }
    return rc;
}
