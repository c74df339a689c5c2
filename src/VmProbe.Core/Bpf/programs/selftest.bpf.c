// SPDX-License-Identifier: MIT OR GPL-2.0
/* The aggregation of kvm_exits.bpf.c (agg.h) on tracepoints that fire on any host: syscalls counted per (tgid, tid,
 * syscall id), enter -> exit on the same thread as a latency histogram per (tgid, id), the same exit cleanup. Tests
 * and the bench load it through the same loader (Bpf/SyscallTracer.cs). */
/* Syscall numbers up to 511 get a task-storage slot (x86-64 has ~460); others (and -1) take the hash path. */
#define TS_LOW 512
#include "tstore.h"

/* [0] = the only tgid traced (0: every process); user space writes it after load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter SEC(".maps");

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
} __attribute__((preserve_access_index));

static __always_inline bool traced(__u32 tgid)
{
	__u32 zero = 0;
	__u32 *only = bpf_map_lookup_elem(&filter, &zero);
	return !only || *only == 0 || *only == tgid;
}

/* The task-storage path checks the filter only when a thread's block is created. */
static __always_inline bool ts_tracked(__u32 tgid)
{
	return traced(tgid);
}

SEC("tp/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!traced(id >> 32))
		return 0;
	agg_count(id >> 32, (__u32)id, 0, (__u32)rec->id);
	return 0;
}

/* sys_enter in latency mode, instead of sys_enter: counts and starts the pair in one run, as kvm_exit_latency does. */
SEC("tp/raw_syscalls/sys_enter")
int sys_enter_latency(struct trace_event_raw_sys_enter *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!traced(id >> 32))
		return 0;
	__u32 nr = (__u32)rec->id;
	agg_count(id >> 32, (__u32)id, 0, nr);
	agg_pair_begin((__u32)id, id >> 32, nr);
	return 0;
}

SEC("tp/raw_syscalls/sys_exit")
int sys_exit(void *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!traced(id >> 32))
		return 0;
	agg_pair_end((__u32)id);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int process_exit(struct trace_event_raw_sched_process_exit *rec)
{
	struct agg_exit_ctx ctx;
	agg_thread_exit(rec, &ctx);
	return 0;
}

/* The task-storage path: tp/ programs as kvm_exits has them (kvm_exit's reason is in the record only) ... */
SEC("tp/raw_syscalls/sys_enter")
int sys_enter_ts(struct trace_event_raw_sys_enter *rec)
{
	ts_count(0, (__u32)rec->id);
	return 0;
}

SEC("tp/raw_syscalls/sys_enter")
int sys_enter_ts_latency(struct trace_event_raw_sys_enter *rec)
{
	__u32 nr = (__u32)rec->id;
	struct ts_block *b = ts_count(0, nr);
	if (b)
		ts_pair_begin(b, nr);
	return 0;
}

SEC("tp/raw_syscalls/sys_exit")
int sys_exit_ts(void *rec)
{
	ts_pair_end();
	return 0;
}

/* ... and raw_tp/ ones, which skip the record copy: sys_enter's (struct pt_regs *regs, long id) are the arguments. */
SEC("raw_tp/sys_enter")
int sys_enter_raw(struct bpf_raw_tracepoint_args *ctx)
{
	ts_count(0, (__u32)ctx->args[1]);
	return 0;
}

SEC("raw_tp/sys_enter")
int sys_enter_raw_latency(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 nr = (__u32)ctx->args[1];
	struct ts_block *b = ts_count(0, nr);
	if (b)
		ts_pair_begin(b, nr);
	return 0;
}

SEC("raw_tp/sys_exit")
int sys_exit_raw(void *ctx)
{
	ts_pair_end();
	return 0;
}

/* process_exit for the task-storage path: the thread's block folds (or goes), then agg.h's hash keys as before. */
SEC("tp/sched/sched_process_exit")
int process_exit_ts(struct trace_event_raw_sched_process_exit *rec)
{
	struct agg_exit_ctx ctx;
	__u64 id = bpf_get_current_pid_tgid();
	ts_thread_exit(agg_group_dead(rec, id >> 32, (__u32)id));
	agg_thread_exit(rec, &ctx);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
