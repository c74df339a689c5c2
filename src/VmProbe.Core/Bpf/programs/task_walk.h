/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* tasks.bpf.c's walk of tracked processes (dump_tracked) and its exec count (count_qemu_exec); included there, after
 * the structs, maps and record writers they share with dump_tasks. */
#ifndef VMPROBE_TASK_WALK_H
#define VMPROBE_TASK_WALK_H

/* dump_tracked: the kfuncs of open-coded iterators (Linux 6.4+ numbers, 6.7+ tasks). Weak, so that the object still
 * opens where the kernel lacks them; the program then fails to load and user space takes dump_tasks. */
#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))

struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task, unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym __weak;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

#define BPF_TASK_ITER_ALL_PROCS 0
#define BPF_TASK_ITER_PROC_THREADS 2

/* A power of two, so that an index masked with it is in bounds for the verifier. */
#define WALK_CAPACITY 16384
/* Records one run writes before its RECORD_END, below the 32 kB a seq file's buffer holds (bpf_seq_read). */
#define RECORDS_PER_RUN 256

/* What user space asks of a run, written through an mmap of this one-element array (mirrored by TaskWalk in C#). */
struct walk {
	__u32 count;                 /* processes in tgids[] */
	__u32 start;                 /* the index this run begins at; count: the leaders' pass */
	__u32 after;                 /* the tid (the leader's, in the leaders' pass) the previous run wrote last; 0: none */
	__u32 leaders;               /* 1: make the leaders' pass; 0: end after the processes (nothing was exec'd) */
	/* The run's counters, kept here rather than on the stack: a counter the verifier knows the value of makes each
	 * turn of a loop a new state, and the loops would not verify. */
	__u32 written;               /* records this run wrote */
	__u32 found;                 /* whether `after` was met in the current process (pass) */
	__u32 last;                  /* the tid (leader) this run wrote last in the current process (pass) */
	__u32 execs;                 /* count_qemu_exec: execs of programs named like QEMU so far */
	__u32 tgids[WALK_CAPACITY];  /* the processes whose threads are written */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walk SEC(".maps");

static __always_inline void write_end(struct seq_file *seq, __u32 next, __u32 after, __u32 done)
{
	struct task_record rec = {};
	rec.tgid = next;
	rec.tid = after;
	rec.kind = RECORD_END;
	rec.reserved = done;
	bpf_seq_write(seq, &rec, sizeof(rec));
}

/* Writes the threads of `leader` that come after thread `after` (all of them when 0) until the run is full; false
 * when it filled up, leaving in w->last the thread written last. A thread the kernel adds goes at the end of the list,
 * so resuming after a tid is safe from threads that come and go; an `after` that exited is never met (w->found). */
static __always_inline bool write_threads(struct seq_file *seq, struct walk *w, struct task_struct *leader, __u32 after)
{
	struct bpf_iter_task it;
	struct task_struct *task;
	bool room = true;
	w->found = after == 0;
	bpf_iter_task_new(&it, leader, BPF_TASK_ITER_PROC_THREADS);
	while ((task = bpf_iter_task_next(&it))) {
		if (!w->found) {
			w->found = task->pid == after;
			continue;
		}
		if (w->written >= RECORDS_PER_RUN) {
			room = false;
			break;
		}
		write_thread(seq, task);
		w->written++;
		w->last = task->pid;
	}
	bpf_iter_task_destroy(&it);
	return room;
}

/* The leaders' pass: a candidate record for each leader not tracked whose executable is named like QEMU, after leader
 * `after` (see write_threads); false when the run filled up. */
static __always_inline bool write_candidates(struct seq_file *seq, struct walk *w, __u32 after)
{
	struct bpf_iter_task it;
	struct task_struct *task;
	bool room = true;
	w->found = after == 0;
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_PROCS);
	while ((task = bpf_iter_task_next(&it))) {
		__u32 tgid = task->tgid;
		if (!w->found) {
			w->found = tgid == after;
			continue;
		}
		if (bpf_map_lookup_elem(&tgids, &tgid))
			continue;
		if (w->written >= RECORDS_PER_RUN) {
			room = false;
			break;
		}
		if (check_leader(seq, task)) {
			w->written++;
			w->last = tgid;
		}
	}
	bpf_iter_task_destroy(&it);
	return room;
}

SEC("iter/task")
int dump_tracked(struct bpf_iter__task *ctx)
{
	if (!ctx->task)
		return 0; /* the iterator's closing call */

	__u32 zero = 0;
	struct walk *w = bpf_map_lookup_elem(&walk, &zero);
	if (!w)
		return 0;

	struct seq_file *seq = ctx->meta->seq;
	__u32 count = w->count < WALK_CAPACITY ? w->count : WALK_CAPACITY;
	__u32 start = w->start < count ? w->start : count;
	__u32 after = w->after;
	struct bpf_iter_num processes;
	int *index;
	w->written = 0;

	bpf_iter_num_new(&processes, start, count);
	while ((index = bpf_iter_num_next(&processes))) {
		__u32 i = *index;
		__s32 tgid = w->tgids[i & (WALK_CAPACITY - 1)];
		struct task_struct *leader = bpf_task_from_pid(tgid);
		if (!leader) {
			after = 0;
			continue; /* the process exited */
		}
		if (leader->tgid != tgid) {
			bpf_task_release(leader);
			after = 0;
			continue; /* its pid is a thread of another process now */
		}

		/* A process whose threads do not fit in what is left of this run begins the next one, so that a process is
		 * split across runs only when it alone has more threads than a run holds (or grew in between). */
		int threads = leader->signal->nr_threads;
		if (w->written > 0 && after == 0 && w->written + threads > RECORDS_PER_RUN) {
			bpf_task_release(leader);
			bpf_iter_num_destroy(&processes);
			write_end(seq, i, 0, 0);
			return 0;
		}

		w->last = 0;
		bool room = write_threads(seq, w, leader, after);
		if (room && !w->found)
			room = write_threads(seq, w, leader, 0); /* `after` exited: again from the first (repeats are dropped) */
		bpf_task_release(leader);
		if (!room) {
			bpf_iter_num_destroy(&processes);
			write_end(seq, i, w->last, 0);
			return 0;
		}
		after = 0;
	}
	bpf_iter_num_destroy(&processes);

	if (!w->leaders) {
		write_end(seq, count, 0, 1);
		return 0;
	}

	w->last = 0;
	bool room = write_candidates(seq, w, after);
	if (room && !w->found)
		room = write_candidates(seq, w, 0);
	write_end(seq, count, room ? 0 : w->last, room ? 1 : 0);
	return 0;
}

static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;

/* Counts execs of programs named like QEMU (the new comm is the file's basename, cut to 15 bytes), so that user space
 * makes the leaders' pass only after one (and now and then regardless: a QEMU exec'd under another name). */
SEC("raw_tp/sched_process_exec")
int count_qemu_exec(void *ctx)
{
	char comm[16] = {};
	bpf_get_current_comm(comm, sizeof(comm));
	long len = 0;
	for (int i = 0; i < 16; i++) {
		if (comm[i] == 0) {
			len = i + 1;
			break;
		}
	}
	if (len == 0 || !is_qemu_name(comm, len))
		return 0;

	__u32 zero = 0;
	struct walk *w = bpf_map_lookup_elem(&walk, &zero);
	if (w)
		__sync_fetch_and_add(&w->execs, 1);
	return 0;
}

#endif
