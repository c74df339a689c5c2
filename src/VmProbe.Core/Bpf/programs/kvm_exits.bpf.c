// SPDX-License-Identifier: MIT OR GPL-2.0
/* VM exits by reason and their handling time, and kvm_watcher's events, aggregated per QEMU process (tgid) and vCPU
 * thread (tid) in the kernel. Record layouts are CO-RE relocated against the kernel's BTF (field names from
 * /sys/kernel/tracing/events/kvm/<event>/format). User space (Bpf/KvmExitTracer.cs) reads the maps once a cycle. */

/* Task-storage slots: VMX reasons (< 80) and SVM codes 0..0xff as they are, SVM's 0x400..0x40f (NPF, AVIC, VMGEXIT)
 * after them; anything else (VMX's failed-entry bit 31, unknown codes) takes agg.h's hash path. */
#define TS_LOW 256
#define TS_HIGH 16
#define TS_HIGH_BASE 0x400
#include "tstore.h"

/* Only vCPU threads exit a VM: every thread that reaches kvm_exit gets a block. */
static __always_inline bool ts_tracked(__u32 tgid)
{
	return true;
}

/* Kinds of the events map; KvmExitTracer.cs mirrors them. */
#define EV_USERSPACE_EXIT 1 /* sub: KVM_EXIT_* reason, or 0x80000000 | -errno when the run ioctl failed */
#define EV_PAGE_FAULT 2 /* sub: 0 */
#define EV_MMIO 3 /* sub: 0 kvmmmu:handle_mmio_page_fault (MMU slow path), 1 kvm:kvm_fast_mmio (VMX EPT misconfig) */
#define EV_HALT_POLL 4 /* sub: 0 shrink, 1 grow */
#define EV_WAKEUP 5 /* sub: bit 0 valid, bit 1 waited (halted) rather than polled */
#define EV_IRQ 6 /* sub: 0 kvm_inj_virq, 1 kvm_msi_set_irq, 2 kvm_pic_set_irq, 3 kvm_ioapic_set_irq */

struct event_key {
	__u32 tgid; /* first, for agg_drop_tgid */
	__u32 kind;
	__u32 sub;
};

/* 1000 VMs x ~40 (kind, sub) pairs. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct event_key);
	__type(value, __u64);
} events SEC(".maps");

/* kvm_vcpu_wakeup's ns per (tgid, waited). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct agg_hist_key);
	__type(value, struct agg_hist);
} wakeup_ns SEC(".maps");

struct trace_event_raw_kvm_exit {
	struct trace_entry ent;
	unsigned int exit_reason;
	__u32 isa;
} __attribute__((preserve_access_index));

static __always_inline void count_event(__u32 kind, __u32 sub)
{
	struct event_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .kind = kind, .sub = sub };
	agg_add(&events, &key, 1);
	agg_mark_process(key.tgid);
	agg_changed();
}

SEC("tp/kvm/kvm_exit")
int kvm_exit(struct trace_event_raw_kvm_exit *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 reason = rec->exit_reason;
	agg_count(id >> 32, (__u32)id, rec->isa, reason);
	return 0;
}

/* kvm_exit in latency mode, instead of kvm_exit: counts and starts the handling time in one run (one program per
 * event costs less than two). */
SEC("tp/kvm/kvm_exit")
int kvm_exit_latency(struct trace_event_raw_kvm_exit *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 reason = rec->exit_reason;
	agg_count(id >> 32, (__u32)id, rec->isa, reason);
	agg_pair_begin((__u32)id, id >> 32, reason);
	return 0;
}

SEC("raw_tp/kvm_entry")
int kvm_entry(void *ctx)
{
	agg_pair_end((__u32)bpf_get_current_pid_tgid());
	return 0;
}

/* The task-storage path (tstore.h): counts in the vCPU thread's own block, no hash on the hot path. kvm_exit stays a
 * tp/ program: its reason is not a tracepoint argument (the event's fast-assign reads it from vendor state). */
SEC("tp/kvm/kvm_exit")
int kvm_exit_ts(struct trace_event_raw_kvm_exit *rec)
{
	ts_count(rec->isa, rec->exit_reason);
	return 0;
}

SEC("tp/kvm/kvm_exit")
int kvm_exit_latency_ts(struct trace_event_raw_kvm_exit *rec)
{
	__u32 reason = rec->exit_reason;
	struct ts_block *b = ts_count(rec->isa, reason);
	if (b)
		ts_pair_begin(b, reason);
	return 0;
}

/* kvm_entry carries nothing the pair needs: raw_tp, no record copied. */
SEC("raw_tp/kvm_entry")
int kvm_entry_ts(void *ctx)
{
	ts_pair_end();
	return 0;
}

/* The other events are raw_tp programs: what they count is in the tracepoint's arguments (TP_PROTO, read from
 * ctx->args, each widened to 64 bits), so no record is built, and detaching one waits for no RCU grace period under
 * the kernel's event_mutex, which a tp/ program's perf event does (~16 ms each here, one after the other at exit). */

/* kvm_userspace_exit(__u32 reason, int errno) */
SEC("raw_tp/kvm_userspace_exit")
int kvm_userspace_exit(struct bpf_raw_tracepoint_args *ctx)
{
	int err = (int)ctx->args[1];
	count_event(EV_USERSPACE_EXIT, err < 0 ? 0x80000000u | (__u32)-err : (__u32)ctx->args[0]);
	return 0;
}

SEC("raw_tp/kvm_page_fault")
int kvm_page_fault(void *ctx)
{
	count_event(EV_PAGE_FAULT, 0);
	return 0;
}

SEC("raw_tp/handle_mmio_page_fault")
int kvm_mmio_page_fault(void *ctx)
{
	count_event(EV_MMIO, 0);
	return 0;
}

SEC("raw_tp/kvm_fast_mmio")
int kvm_fast_mmio(void *ctx)
{
	count_event(EV_MMIO, 1);
	return 0;
}

/* kvm_halt_poll_ns(bool grow, unsigned int vcpu_id, unsigned int new, unsigned int old) */
SEC("raw_tp/kvm_halt_poll_ns")
int kvm_halt_poll_ns(struct bpf_raw_tracepoint_args *ctx)
{
	count_event(EV_HALT_POLL, (__u8)ctx->args[0] ? 1 : 0);
	return 0;
}

/* kvm_vcpu_wakeup(__u64 ns, bool waited, bool valid) */
SEC("raw_tp/kvm_vcpu_wakeup")
int kvm_vcpu_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	bool waited = (__u8)ctx->args[1];
	count_event(EV_WAKEUP, ((__u8)ctx->args[2] ? 1 : 0) | (waited ? 2 : 0));
	struct agg_hist_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .field = waited ? 1 : 0 };
	agg_observe(&wakeup_ns, &key, ctx->args[0]);
	return 0;
}

/* IRQ injections are counted for the task that injects: the vCPU thread for kvm_inj_virq, QEMU's or vhost's thread
 * (or a kworker, for an irqfd) for the others. */
SEC("raw_tp/kvm_inj_virq")
int kvm_inj_virq(void *ctx)
{
	count_event(EV_IRQ, 0);
	return 0;
}

SEC("raw_tp/kvm_msi_set_irq")
int kvm_msi_set_irq(void *ctx)
{
	count_event(EV_IRQ, 1);
	return 0;
}

SEC("raw_tp/kvm_pic_set_irq")
int kvm_pic_set_irq(void *ctx)
{
	count_event(EV_IRQ, 2);
	return 0;
}

SEC("raw_tp/kvm_ioapic_set_irq")
int kvm_ioapic_set_irq(void *ctx)
{
	count_event(EV_IRQ, 3);
	return 0;
}

static __always_inline void drop_on_exit(struct trace_event_raw_sched_process_exit *rec)
{
	struct agg_exit_ctx ctx;
	if (agg_thread_exit(rec, &ctx)) {
		/* The process's own event counts and wakeup histogram go with it, like the shared maps. */
		bpf_for_each_map_elem(&events, agg_drop_tgid, &ctx, 0);
		bpf_for_each_map_elem(&wakeup_ns, agg_drop_tgid, &ctx, 0);
		agg_changed();
	}
}

SEC("tp/sched/sched_process_exit")
int process_exit(struct trace_event_raw_sched_process_exit *rec)
{
	drop_on_exit(rec);
	return 0;
}

/* process_exit for the task-storage path: the thread's block folds (or goes), then the hash keys as before. */
SEC("tp/sched/sched_process_exit")
int process_exit_ts(struct trace_event_raw_sched_process_exit *rec)
{
	__u64 id = bpf_get_current_pid_tgid();
	ts_thread_exit(agg_group_dead(rec, id >> 32, (__u32)id));
	drop_on_exit(rec);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
