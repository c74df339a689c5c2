/*
 * syscall-loop: N getppid() calls in a tight loop; prints "syscall_loop calls=N ns_per_call=X" (the process's CPU
 * time over the loop, CLOCK_PROCESS_CPUTIME_ID: time other tenants of a shared machine take is not counted). bench/bpf-cost runs it with and without tracing to get the added ns per event.
 *   syscall-loop [N]   (default 2000000)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    struct timespec a, b;
    for (long i = 0; i < 10000; i++)
        syscall(SYS_getppid); /* warm up */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid); /* not getppid(): glibc must not cache it */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("syscall_loop calls=%ld ns_per_call=%.1f\n", n, ns / n);
    return 0;
}
