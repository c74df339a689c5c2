/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* Per-thread counts in task-local storage (BPF_MAP_TYPE_TASK_STORAGE, Linux 5.11+), the fast path beside agg.h's
 * hash: the hot path finds the current thread's block by a pointer in its task_struct (no hashing, no key, no LRU
 * bookkeeping) and adds one to a slot picked by the counted field. The block is created only for a tracked thread
 * (the caller's filter runs on that path alone) and freed by the kernel with the task, so churn cannot grow it.
 *   ts_count(f1, f2)                      slots[slot(f2)] += 1; a field without a slot goes to agg.h's counts hash
 *   ts_pair_begin / ts_pair_end           the latency pair on the same block (no pending hash)
 *   ts_thread_exit()                      sched_process_exit: the block's counts fold into tid 0 of agg.h's counts
 *                                         (per process sums stay monotonic), then the block goes
 *   iter/task dump_thread_counts          user space reads every block's non-zero slots, one ts_record each
 * The including object defines TS_LOW (fields 0..TS_LOW-1 map to slots as they are), may define TS_HIGH and
 * TS_HIGH_BASE (fields TS_HIGH_BASE.. +TS_HIGH-1 map to the slots after them: SVM's 0x400.. exit codes), and defines
 * ts_tracked(tgid) after the include: whether a thread of that process gets a block. */
#ifndef VMPROBE_TSTORE_H
#define VMPROBE_TSTORE_H

#include "agg.h"

#ifndef TS_HIGH
#define TS_HIGH 0
#define TS_HIGH_BASE 0
#endif
#define TS_SLOTS (TS_LOW + TS_HIGH)
#define TS_NO_SLOT 0xffffffffu

#define BPF_MAP_TYPE_TASK_STORAGE 29
#define BPF_F_NO_PREALLOC 1
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1

struct task_struct {
	pid_t pid;
	pid_t tgid;
} __attribute__((preserve_access_index));

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

static long (*bpf_seq_write)(void *seq, const void *data, __u32 len) = (void *)127;
static void *(*bpf_task_storage_get)(void *map, struct task_struct *task, void *value, __u64 flags) = (void *)156;
static long (*bpf_task_storage_delete)(void *map, struct task_struct *task) = (void *)157;
static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;

struct ts_block {
	__u32 tgid;
	__u32 tid;
	__u32 f1;
	__u32 pending_field;
	__u64 start_ns; /* 0: no pair pending */
	__u64 slots[TS_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ts_block);
} thread_counts SEC(".maps");

/* tgid -> 1 while user space drops a process's blocks (Forget): the iterator deletes them instead of writing them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ts_drop SEC(".maps");

/* Blocks created since load: while 0 no tracked thread has counted, and the cycle skips the iterator's walk of every
 * task of the host (a host whose VMs do not exit, or not yet). Only ever grows, so a skip is never wrong. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ts_created SEC(".maps");

/* What the iterator writes per non-zero slot: agg_count_key + count (24 bytes; ThreadCountRecord in C#). */
struct ts_record {
	struct agg_count_key key;
	__u64 count;
};

static __always_inline __u32 ts_slot(__u32 field)
{
	if (field < TS_LOW)
		return field;
#if TS_HIGH > 0
	if (field - TS_HIGH_BASE < TS_HIGH)
		return TS_LOW + (field - TS_HIGH_BASE);
#endif
	return TS_NO_SLOT;
}

static __always_inline __u32 ts_field(__u32 slot)
{
	return slot < TS_LOW ? slot : TS_HIGH_BASE + (slot - TS_LOW);
}

/* The current thread's block; created (and its process marked for the exit hook) only when ts_tracked(tgid). The
 * thread's ids are read on that path only: a running thread's block already holds them. */
static __always_inline bool ts_tracked(__u32 tgid);

static __always_inline struct ts_block *ts_block(__u32 f1)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ts_block *b = bpf_task_storage_get(&thread_counts, task, 0, 0);
	if (b)
		return b;
	__u64 id = bpf_get_current_pid_tgid();
	if (!ts_tracked(id >> 32))
		return 0;
	b = bpf_task_storage_get(&thread_counts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (b) {
		b->tgid = id >> 32;
		b->tid = (__u32)id;
		b->f1 = f1;
		agg_mark_process(id >> 32);
		__u32 zero = 0;
		__u64 *created = bpf_map_lookup_elem(&ts_created, &zero);
		if (created)
			__sync_fetch_and_add(created, 1);
	}
	return b;
}

/* Counts (f1, f2) for the current thread; returns its block (NULL: untracked, or no memory for a block). */
static __always_inline struct ts_block *ts_count(__u32 f1, __u32 f2)
{
	struct ts_block *b = ts_block(f1);
	if (!b)
		return 0;
	__u64 slot = ts_slot(f2);
	asm volatile("" : "+r"(slot)); /* the bound check and the index must be one register for the verifier */
	if (slot < TS_SLOTS && b->f1 == f1) {
		/* Only this thread writes its block while it runs: the atomic is uncontended, there as agg_changed's barrier. */
		__sync_fetch_and_add(&b->slots[slot], 1);
		agg_changed();
		return b;
	}
	agg_count(b->tgid, b->tid, f1, f2); /* a field without a slot: the hash path, read and folded as before */
	return b;
}

static __always_inline void ts_pair_begin(struct ts_block *b, __u32 field)
{
	b->pending_field = field;
	b->start_ns = bpf_ktime_get_ns();
}

static __always_inline void ts_pair_end(void)
{
	struct ts_block *b = bpf_task_storage_get(&thread_counts, bpf_get_current_task_btf(), 0, 0);
	if (!b || b->start_ns == 0)
		return;
	__u64 now = bpf_ktime_get_ns();
	__u64 start = b->start_ns;
	struct agg_hist_key key = { .tgid = b->tgid, .field = b->pending_field };
	b->start_ns = 0;
	if (now > start)
		agg_observe(&latency, &key, now - start);
}

/* Walking every slot: the verifier checks a bounded loop's body once per slot (and each branch of it), ~180,000 insns
 * and 0.3 s for the exit hook; bpf_loop's callback (5.17+) is checked once. The loop stays for older kernels: the CO-RE
 * guard is a constant at load, so the verifier walks only one of the two. */
#define TS_FOR_EACH_SLOT(callback, ctx, body)                                        \
	do {                                                                          \
		if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {    \
			bpf_loop(TS_SLOTS, callback, ctx, 0);                         \
		} else {                                                              \
			for (__u32 i = 0; i < TS_SLOTS; i++)                          \
				body;                                                 \
		}                                                                     \
	} while (0)

static __always_inline void ts_fold(struct ts_block *b, __u32 i)
{
	__u64 n = b->slots[i];
	if (n) {
		struct agg_count_key folded = { .tgid = b->tgid, .tid = 0, .f1 = b->f1, .f2 = ts_field(i) };
		agg_add(&counts, &folded, n);
	}
}

static long ts_fold_slot(__u32 index, struct ts_block **b)
{
	__u64 i = index;
	asm volatile("" : "+r"(i)); /* one register for the bound check and the index */
	if (i < TS_SLOTS)
		ts_fold(*b, i);
	return 0;
}

/* sched_process_exit of the current thread: its block folds into tid 0 unless its whole process is going. */
static __always_inline void ts_thread_exit(bool group_dead)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ts_block *b = bpf_task_storage_get(&thread_counts, task, 0, 0);
	if (!b)
		return;
	if (!group_dead)
		TS_FOR_EACH_SLOT(ts_fold_slot, &b, ts_fold(b, i));
	/* Gone now, so that a task iterator walking the dying task cannot count it twice (block and tid 0). */
	bpf_task_storage_delete(&thread_counts, task);
	agg_changed();
}

struct ts_dump {
	struct ts_block *b;
	struct seq_file *seq;
	struct ts_record rec;
};

static __always_inline void ts_dump(struct ts_dump *d, __u32 i)
{
	__u64 n = d->b->slots[i];
	if (n) {
		d->rec.key.f2 = ts_field(i);
		d->rec.count = n;
		bpf_seq_write(d->seq, &d->rec, sizeof(d->rec));
	}
}

static long ts_dump_slot(__u32 index, struct ts_dump *d)
{
	__u64 i = index;
	asm volatile("" : "+r"(i));
	if (i < TS_SLOTS)
		ts_dump(d, i);
	return 0;
}

SEC("iter/task")
int dump_thread_counts(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task)
		return 0;
	struct ts_block *b = bpf_task_storage_get(&thread_counts, task, 0, 0);
	if (!b)
		return 0;
	__u32 tgid = b->tgid;
	if (bpf_map_lookup_elem(&ts_drop, &tgid)) {
		bpf_task_storage_delete(&thread_counts, task);
		return 0;
	}
	struct ts_dump dump = { .b = b, .seq = ctx->meta->seq, .rec = { .key = { .tgid = tgid, .tid = b->tid, .f1 = b->f1 } } };
	TS_FOR_EACH_SLOT(ts_dump_slot, &dump, ts_dump(&dump, i));
	return 0;
}

#endif
