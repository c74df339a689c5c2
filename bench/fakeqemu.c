/*
 * fakeqemu: impersonates a QEMU/KVM process for benchmarks, so a small machine can stand for a host with
 * hundreds of small VMs. Built by bench/run as bench/out/qemu-system-x86_64 (a real file, not a symlink:
 * /proc/PID/exe resolves links, and the scanner matches the executable's name).
 *
 *   qemu-system-x86_64 -name guest=vm1,debug-threads=on -uuid UUID -smp 4 [QEMU-like args ...]
 *                      [-fake-seconds S] [-fake-duty FRACTION] [-fake-period-ms MS]
 *
 * Threads, named as QEMU names them with debug-threads=on: the main thread (comm qemu-system-x86, from the
 * executable name), "call_rcu", "IO mon_iothread", "worker", and one "CPU i/KVM" per -smp vCPU. Each vCPU
 * thread spins for duty*period of every period (on its own CPU clock, so it is busy for that long even when
 * preempted) and sleeps the rest; the emulator threads only sleep. Unknown arguments are ignored, as the
 * point is to look like QEMU to /proc readers.
 *
 * Prints "ready PID" on stdout once every thread carries its name.
 *
 * Always bounded: exits after -fake-seconds (default 600) through alarm(), on SIGTERM/SIGINT (default
 * actions), and when its parent dies (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static double duty = 0.02;
/* Every thread names itself, then meets the main thread here, so "ready" on stdout means /proc shows all names. */
static pthread_barrier_t named;
static long period_ns = 100L * 1000 * 1000;

static long long now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void *vcpu_main(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "CPU %ld/KVM", (long)arg);
    pthread_setname_np(pthread_self(), name);
    pthread_barrier_wait(&named);

    long long busy_ns = (long long)(duty * (double)period_ns);
    volatile unsigned long sink = 0;
    /* Stagger the phases so the vCPUs of many fake VMs do not all wake at once. */
    sleep_ns((long long)(rand() % 1000) * (period_ns / 1000));
    for (;;) {
        long long start = now_ns(CLOCK_MONOTONIC);
        long long cpu_end = now_ns(CLOCK_THREAD_CPUTIME_ID) + busy_ns;
        while (now_ns(CLOCK_THREAD_CPUTIME_ID) < cpu_end) {
            for (int i = 0; i < 256; i++)
                sink += (unsigned long)i * 2654435761UL;
        }
        long long elapsed = now_ns(CLOCK_MONOTONIC) - start;
        sleep_ns(period_ns - elapsed > 0 ? period_ns - elapsed : period_ns / 10);
    }
    return NULL;
}

static void *idle_main(void *arg)
{
    pthread_setname_np(pthread_self(), (const char *)arg);
    pthread_barrier_wait(&named);
    for (;;)
        sleep_ns(1000000000LL);
    return NULL;
}

/* The bounded lifetime is a normal end: exit 0 rather than die of SIGALRM. */
static void on_alarm(int sig)
{
    (void)sig;
    _exit(0);
}

static void start_thread(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* Hundreds of fake VMs: keep each thread's stack small (vCPU loops use a few hundred bytes). */
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "fakeqemu: pthread_create: %s\n", strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
        perror("fakeqemu: prctl(PR_SET_PDEATHSIG)");
        return 1;
    }
    /* The parent may have died before prctl took effect; then we were already reparented. */
    if (getppid() != parent)
        return 0;

    long vcpus = 1;
    long seconds = 600;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "-smp") == 0 && value) {
            /* QEMU accepts "-smp 4" and "-smp cpus=4,..." */
            const char *digits = strncmp(value, "cpus=", 5) == 0 ? value + 5 : value;
            vcpus = strtol(digits, NULL, 10);
            i++;
        } else if (strcmp(argv[i], "-fake-seconds") == 0 && value) {
            seconds = strtol(value, NULL, 10);
            i++;
        } else if (strcmp(argv[i], "-fake-duty") == 0 && value) {
            duty = strtod(value, NULL);
            i++;
        } else if (strcmp(argv[i], "-fake-period-ms") == 0 && value) {
            period_ns = strtol(value, NULL, 10) * 1000000L;
            i++;
        }
    }
    if (vcpus < 1 || vcpus > 1024 || seconds < 1 || duty < 0 || duty > 1 || period_ns < 1000000L) {
        fprintf(stderr, "fakeqemu: bad -smp (1..1024), -fake-seconds (>=1), -fake-duty (0..1) or -fake-period-ms (>=1)\n");
        return 2;
    }

    srand((unsigned)getpid());
    signal(SIGALRM, on_alarm);
    alarm((unsigned)seconds);
    pthread_barrier_init(&named, NULL, (unsigned)vcpus + 4);
    start_thread(idle_main, "call_rcu");
    start_thread(idle_main, "IO mon_iothread");
    start_thread(idle_main, "worker");
    for (long i = 0; i < vcpus; i++)
        start_thread(vcpu_main, (void *)i);
    pthread_barrier_wait(&named);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);

    /* The main loop of QEMU blocks in ppoll; ours waits for a signal (alarm, SIGTERM, parent death). */
    for (;;)
        pause();
}
