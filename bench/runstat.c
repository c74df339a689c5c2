/*
 * runstat: runs a command and prints its wall time, CPU time and peak RSS from wait4(), for `vmprobe --once`
 * timings without hyperfine or GNU time.
 *
 *   runstat COMMAND [ARG...]     (the command's stdout/stderr pass through)
 *
 * Prints on stderr: "runstat_result exit=.. wall_ms=.. user_ms=.. sys_ms=.. maxrss_kb=.." and exits with the
 * command's exit code (128+signal when killed).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms(struct timeval tv) { return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: runstat COMMAND [ARG...]\n");
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t child = fork();
    if (child < 0) {
        perror("runstat: fork");
        return 2;
    }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        perror("runstat: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(child, &status, 0, &ru) < 0) {
        perror("runstat: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (double)(end.tv_sec - start.tv_sec) * 1e3 + (double)(end.tv_nsec - start.tv_nsec) / 1e6;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(stderr, "runstat_result exit=%d wall_ms=%.1f user_ms=%.1f sys_ms=%.1f maxrss_kb=%ld\n",
            code, wall, ms(ru.ru_utime), ms(ru.ru_stime), ru.ru_maxrss);
    return code;
}
