// SPDX-License-Identifier: MIT OR GPL-2.0
/* bench/bpf-cost's floor: programs that do nothing, on the tracepoint the self-test counts. What one of them adds per
 * event is what any program costs on this host before it does any work. */
#define SEC(name) __attribute__((section(name), used))

SEC("tp/raw_syscalls/sys_enter")
int empty_tp(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int empty_raw(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
