/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* VmProbe's in-kernel aggregation, shared by kvm_exits.bpf.c and selftest.bpf.c (the self-test proves this exact code
 * end to end on tracepoints that fire everywhere). Nothing per event reaches user space: user space reads the maps.
 *   agg_count(tgid, tid, f1, f2)      counts[(tgid, tid, f1, f2)] += 1
 *   agg_pair_begin(tid, tgid, field)  remembers (now, field) for the thread ...
 *   agg_pair_end(tid)                 ... and adds now - then to latency[(tgid, field)], a log2 histogram in ns
 *   agg_thread_exit(group_dead)       sched_process_exit: a thread's counts are folded into tid 0 of its process (per
 *                                     process sums stay monotonic), its pending pair is dropped; a dead process's
 *                                     keys are deleted from every aggregation map.
 *   agg_changed()                     after any change a snapshot reads: moves the change count (agg_gen)
 * Every map is bounded; the LRU maps also drop the least recently used keys if exits were ever missed. */
#ifndef VMPROBE_AGG_H
#define VMPROBE_AGG_H

#include "bpf_defs.h"

#define AGG_BUCKETS 32 /* log2 ns buckets: bucket i counts [2^i, 2^(i+1)) ns, i = 0 also 0 ns; the last is open-ended */

/* 1000 VMs x 64 vCPUs x 20 reasons; user space may lower it before load (bpf_map__set_max_entries). */
#define AGG_MAX_COUNTS 1280000
/* 1000 VMs x 32 reasons. */
#define AGG_MAX_HISTS 32768
/* 1000 VMs x 64 vCPUs: pending pairs and the threads and processes that own keys. */
#define AGG_MAX_THREADS 65536
#define AGG_MAX_PROCS 4096

struct agg_count_key {
	__u32 tgid;
	__u32 tid;
	__u32 f1;
	__u32 f2;
};

struct agg_hist_key {
	__u32 tgid;
	__u32 field;
};

struct agg_hist {
	__u64 buckets[AGG_BUCKETS];
	__u64 sum_ns;
	__u64 count;
};

struct agg_pending {
	__u64 start_ns; /* 0: no exit pending */
	__u32 tgid;
	__u32 field;
};

/* The change count (issue 14): [0] moves after a program changed what a snapshot reads, [1] is the value of [0] that
 * user space read before its last walk. A snapshot walks the maps only when [0] moved; while nothing fires it reads
 * this page (mmapped) and nothing else. Programs bump [0] only while it equals [1]: once per snapshot rather than per
 * event, so the hot path writes no shared cache line. */
#define BPF_F_MMAPABLE (1U << 10)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} agg_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AGG_MAX_COUNTS);
	__type(key, struct agg_count_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AGG_MAX_HISTS);
	__type(key, struct agg_hist_key);
	__type(value, struct agg_hist);
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AGG_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct agg_pending);
} pending SEC(".maps");

/* tid -> tgid of every thread with keys in counts: the exit hook returns at once for any other thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AGG_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u32);
} threads SEC(".maps");

/* tgid -> 1 for every process with keys in any aggregation map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AGG_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} procs SEC(".maps");

/* Call after the change, which must be an atomic or a locked map update (a full barrier on x86): user space writes
 * [1] and then walks, the program changes and then reads [1]; either the walk sees the change or the count moves. */
static __always_inline void agg_changed(void)
{
	__u32 k_changes = 0, k_seen = 1;
	__u64 *changes = bpf_map_lookup_elem(&agg_gen, &k_changes);
	__u64 *seen = bpf_map_lookup_elem(&agg_gen, &k_seen);
	if (changes && seen && *(volatile __u64 *)changes == *(volatile __u64 *)seen)
		__sync_fetch_and_add(changes, 1);
}

static __always_inline void agg_add(void *map, const void *key, __u64 delta)
{
	__u64 *value = bpf_map_lookup_elem(map, key);
	if (value) {
		__sync_fetch_and_add(value, delta);
		return;
	}
	/* A racing insert of the same key on another CPU wins; add to whatever is there then. */
	if (bpf_map_update_elem(map, key, &delta, BPF_NOEXIST) != 0) {
		value = bpf_map_lookup_elem(map, key);
		if (value)
			__sync_fetch_and_add(value, delta);
	}
}

static __always_inline void agg_mark_process(__u32 tgid)
{
	__u32 one = 1;
	if (!bpf_map_lookup_elem(&procs, &tgid))
		bpf_map_update_elem(&procs, &tgid, &one, BPF_ANY);
}

static __always_inline void agg_count(__u32 tgid, __u32 tid, __u32 f1, __u32 f2)
{
	struct agg_count_key key = { .tgid = tgid, .tid = tid, .f1 = f1, .f2 = f2 };
	__u64 *value = bpf_map_lookup_elem(&counts, &key);
	if (value) {
		/* Only the thread itself (here, and at its exit) writes a key with its tid: the atomic is uncontended, there
		 * as agg_changed's barrier. */
		__sync_fetch_and_add(value, 1);
		agg_changed();
		return;
	}
	agg_add(&counts, &key, 1);
	/* First key of this (thread, field): the rare path registers the owner for the exit hook. */
	if (!bpf_map_lookup_elem(&threads, &tid))
		bpf_map_update_elem(&threads, &tid, &tgid, BPF_ANY);
	agg_mark_process(tgid);
	agg_changed();
}

static __always_inline __u32 agg_log2(__u64 v)
{
	__u32 r = 0;
	/* Unrolled binary search: bounded for the verifier. */
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* Adds one observation to hists[key] (a log2 histogram with sum and count). */
static __always_inline void agg_observe(void *hists, struct agg_hist_key *key, __u64 ns)
{
	struct agg_hist *hist = bpf_map_lookup_elem(hists, key);
	if (!hist) {
		struct agg_hist zero = {};
		bpf_map_update_elem(hists, key, &zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(hists, key);
		if (!hist)
			return;
		agg_mark_process(key->tgid);
	}
	__u32 bucket = agg_log2(ns);
	if (bucket >= AGG_BUCKETS)
		bucket = AGG_BUCKETS - 1;
	__sync_fetch_and_add(&hist->buckets[bucket], 1);
	__sync_fetch_and_add(&hist->sum_ns, ns);
	__sync_fetch_and_add(&hist->count, 1);
	agg_changed();
}

static __always_inline void agg_pair_begin(__u32 tid, __u32 tgid, __u32 field)
{
	struct agg_pending *p = bpf_map_lookup_elem(&pending, &tid);
	if (p) {
		p->tgid = tgid;
		p->field = field;
		p->start_ns = bpf_ktime_get_ns();
		return;
	}
	struct agg_pending fresh = { .start_ns = bpf_ktime_get_ns(), .tgid = tgid, .field = field };
	bpf_map_update_elem(&pending, &tid, &fresh, BPF_ANY);
}

static __always_inline void agg_pair_end(__u32 tid)
{
	struct agg_pending *p = bpf_map_lookup_elem(&pending, &tid);
	if (!p || p->start_ns == 0)
		return;
	__u64 now = bpf_ktime_get_ns();
	__u64 start = p->start_ns;
	struct agg_hist_key key = { .tgid = p->tgid, .field = p->field };
	p->start_ns = 0; /* consumed: an entry without a new exit is not paired again (no delete on the hot path) */
	if (now > start)
		agg_observe(&latency, &key, now - start);
}

struct agg_exit_ctx {
	__u32 tgid;
	__u32 tid;
};

static long agg_fold_thread(void *map, struct agg_count_key *key, __u64 *value, struct agg_exit_ctx *ctx)
{
	if (key->tid != ctx->tid || key->tgid != ctx->tgid)
		return 0;
	struct agg_count_key folded = { .tgid = key->tgid, .tid = 0, .f1 = key->f1, .f2 = key->f2 };
	agg_add(&counts, &folded, *value);
	bpf_map_delete_elem(&counts, key);
	return 0;
}

static long agg_drop_count(void *map, struct agg_count_key *key, void *value, struct agg_exit_ctx *ctx)
{
	if (key->tgid == ctx->tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* Deletes every key of a process from a map keyed by a struct starting with the tgid. */
static long agg_drop_tgid(void *map, __u32 *key, void *value, struct agg_exit_ctx *ctx)
{
	if (*key == ctx->tgid)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* Whether the exiting thread is its process's last (sched_process_exit's group_dead, newer than the tracepoint). */
static __always_inline bool agg_group_dead(struct trace_event_raw_sched_process_exit *rec, __u32 tgid, __u32 tid)
{
	if (bpf_core_field_exists(rec->group_dead))
		return rec->group_dead;
	return tid == tgid; /* older kernels: the leader's exit stands for the process (LRU covers the rest) */
}

/* The body of the sched_process_exit program. True when the process is gone and had keys: the caller then drops
 * the process from its own per-process maps (bpf_for_each_map_elem(&map, agg_drop_tgid, ctx, 0)). */
static __always_inline bool agg_thread_exit(struct trace_event_raw_sched_process_exit *rec, struct agg_exit_ctx *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct agg_exit_ctx ctx = { .tgid = id >> 32, .tid = (__u32)id };
	*out = ctx;
	bool group_dead = agg_group_dead(rec, ctx.tgid, ctx.tid);

	if (bpf_map_lookup_elem(&threads, &ctx.tid)) {
		bpf_map_delete_elem(&pending, &ctx.tid);
		if (!group_dead)
			bpf_for_each_map_elem(&counts, agg_fold_thread, &ctx, 0);
		bpf_map_delete_elem(&threads, &ctx.tid);
		agg_changed();
	}
	if (group_dead && bpf_map_lookup_elem(&procs, &ctx.tgid)) {
		bpf_for_each_map_elem(&counts, agg_drop_count, &ctx, 0);
		bpf_for_each_map_elem(&latency, agg_drop_tgid, &ctx, 0);
		bpf_map_delete_elem(&procs, &ctx.tgid);
		agg_changed();
		return true;
	}
	return false;
}

#endif
