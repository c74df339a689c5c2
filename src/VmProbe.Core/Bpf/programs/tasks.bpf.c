// SPDX-License-Identifier: MIT OR GPL-2.0
/* Task iterators that write, for every thread of the processes the cycle tracks, what /proc/PID/task/TID/schedstat and
 * stat give the procfs source: one fixed-size binary record per thread, so that a cycle reads one seq file instead of
 * two files per thread. The same pass finds new QEMU processes for the process discovery: a process leader not tracked
 * whose executable is named like QEMU gets one candidate record (or an unreadable record when its executable's name
 * cannot be read), so no /proc listing is needed to find them. User space (Bpf/TaskIterator.cs) loads one of two:
 *
 * - dump_tracked (Linux 6.7+: open-coded task iterators): attached to one task (the probe's main thread), so each run is one call that
 *   walks the threads of the processes listed in `walk` and then the process leaders: no other thread is visited.
 *   A run writes at most RECORDS_PER_RUN records (a seq file's buffer holds 32 kB) and ends with a RECORD_END record
 *   saying where the next run begins; user space runs it again until that record says done.
 * - dump_tasks (Linux 5.8+): attached over every task; writes the tracked threads (the `tgids` map) and the leaders.
 *
 * Times stay in ns here; user space converts the ones procfs gives in USER_HZ ticks (nsec_to_clock_t is a plain
 * division, so both agree exactly). */
#include "bpf_defs.h"

#define BPF_F_NO_PREALLOC 1
#define BPF_F_MMAPABLE 1024

static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;
static long (*bpf_seq_write)(void *seq, const void *data, __u32 len) = (void *)127;
static long (*bpf_probe_read_kernel_str)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)115;

/* The kernel's structs, only the fields read; CO-RE relocates the offsets against the running kernel's BTF. */
struct sched_entity {
	__u64 sum_exec_runtime;
} __attribute__((preserve_access_index));

struct sched_info {
	unsigned long pcount;
	unsigned long long run_delay;
} __attribute__((preserve_access_index));

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct signal_struct {
	int nr_threads;
} __attribute__((preserve_access_index));

struct task_struct {
	struct mm_struct *mm;
	struct signal_struct *signal;
	pid_t pid;
	pid_t tgid;
	struct sched_entity se;
	struct sched_info sched_info;
	__u64 utime;
	__u64 stime;
	__u64 gtime;
	__u64 start_boottime;
	unsigned long min_flt;
	unsigned long maj_flt;
	char comm[16];
} __attribute__((preserve_access_index));

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

/* The processes whose threads are written (key tgid, value unused); the cycle fills it from discovery. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} tgids SEC(".maps");

/* task_record.kind */
#define RECORD_THREAD 0     /* a thread of a process in `tgids` */
#define RECORD_CANDIDATE 1  /* a process leader not in `tgids` whose executable is named like QEMU */
#define RECORD_UNREADABLE 2 /* a process leader not in `tgids` whose executable's name could not be read */
#define RECORD_END 3        /* dump_tracked's last record of a run: tgid = next start, tid = next skip, reserved = done */

/* One thread; 104 bytes, mirrored by TaskRecord in Bpf/TaskIterator.cs (a layout test checks the size). */
struct task_record {
	__u32 tgid;
	__u32 tid;
	__u64 run_ns;         /* se.sum_exec_runtime: schedstat field 1 */
	__u64 wait_ns;        /* sched_info.run_delay: schedstat field 2 */
	__u64 timeslices;     /* sched_info.pcount: schedstat field 3 */
	__u64 min_flt;        /* stat field 10 */
	__u64 maj_flt;        /* stat field 12 */
	__u64 gtime_ns;       /* stat field 43, in ns */
	__u64 start_ns;       /* start_boottime: stat field 22, in ns (tells a reused tid from the old thread) */
	__u64 utime_ns;       /* raw tick-sampled utime (procfs scales it to sum_exec_runtime: not equal to field 14) */
	__u64 stime_ns;
	char comm[16];
	__u32 kind;           /* RECORD_*; a candidate or unreadable record has only tgid, tid, start_ns and comm */
	__u32 reserved;
};

/* What QemuCommandLine.IsQemuExecutable accepts, on the executable's basename: qemu-system-* (at least one more
 * character), qemu-kvm, kvm. `name` holds the first 15 bytes and a NUL; `len` is what the read returned (with the NUL). */
static __always_inline bool is_qemu_name(const char *name, long len)
{
	const char prefix[] = "qemu-system-";
	if (len == 4)
		return name[0] == 'k' && name[1] == 'v' && name[2] == 'm';
	if (len == 9)
		return name[0] == 'q' && name[1] == 'e' && name[2] == 'm' && name[3] == 'u' && name[4] == '-'
		       && name[5] == 'k' && name[6] == 'v' && name[7] == 'm';
	if (len < 14)
		return false;
	for (int i = 0; i < 12; i++) {
		if (name[i] != prefix[i])
			return false;
	}
	return true;
}

/* A leader not in `tgids`: a candidate record when its executable is named like QEMU, an unreadable record when the
 * name cannot be read (user space then lists /proc for the cycle), nothing otherwise. Kernel threads and exiting
 * processes have no mm: /proc gives no executable for them either. */
static __always_inline bool check_leader(struct seq_file *seq, struct task_struct *task)
{
	struct mm_struct *mm = task->mm;
	if (!mm)
		return false;

	struct file *exe = NULL;
	struct dentry *dentry = NULL;
	const unsigned char *name_ptr = NULL;
	char name[16] = {};
	long len = -1;
	if (bpf_probe_read_kernel(&exe, sizeof(exe), &mm->exe_file) == 0 && exe
	    && bpf_probe_read_kernel(&dentry, sizeof(dentry), &exe->f_path.dentry) == 0 && dentry
	    && bpf_probe_read_kernel(&name_ptr, sizeof(name_ptr), &dentry->d_name.name) == 0 && name_ptr)
		len = bpf_probe_read_kernel_str(name, sizeof(name), name_ptr);

	__u32 kind = RECORD_UNREADABLE;
	if (len > 0) {
		if (!is_qemu_name(name, len))
			return false;
		kind = RECORD_CANDIDATE;
	}

	struct task_record rec = {};
	rec.tgid = task->tgid;
	rec.tid = task->pid;
	rec.start_ns = task->start_boottime;
	rec.kind = kind;
	bpf_probe_read_kernel(rec.comm, sizeof(rec.comm), task->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return true;
}

static __always_inline void write_thread(struct seq_file *seq, struct task_struct *task)
{
	struct task_record rec = {};
	rec.tgid = task->tgid;
	rec.tid = task->pid;
	rec.run_ns = task->se.sum_exec_runtime;
	rec.wait_ns = task->sched_info.run_delay;
	rec.timeslices = task->sched_info.pcount;
	rec.min_flt = task->min_flt;
	rec.maj_flt = task->maj_flt;
	rec.gtime_ns = task->gtime;
	rec.start_ns = task->start_boottime;
	rec.utime_ns = task->utime;
	rec.stime_ns = task->stime;
	bpf_probe_read_kernel(rec.comm, sizeof(rec.comm), task->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
}

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task)
		return 0;

	__u32 tgid = task->tgid;
	if (!bpf_map_lookup_elem(&tgids, &tgid)) {
		if (task->pid == task->tgid)
			check_leader(ctx->meta->seq, task);
		return 0;
	}

	write_thread(ctx->meta->seq, task);
	return 0;
}

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
	__u32 skip;                  /* threads (or, in the leaders' pass, leaders) the previous run got through */
	__u32 leaders;               /* 1: make the leaders' pass; 0: end after the processes (nothing was exec'd) */
	/* The run's counters, kept here rather than on the stack: a counter the verifier knows the value of makes each
	 * turn of a loop a new state, and the loops would not verify. */
	__u32 written;               /* records this run wrote */
	__u32 seen;                  /* threads (leaders) of the current process (pass) visited */
	__u32 execs;                 /* count_qemu_exec: execs of programs named like QEMU so far */
	__u32 reserved;
	__u32 tgids[WALK_CAPACITY];  /* the processes whose threads are written */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walk SEC(".maps");

static __always_inline void write_end(struct seq_file *seq, __u32 next, __u32 skip, __u32 done)
{
	struct task_record rec = {};
	rec.tgid = next;
	rec.tid = skip;
	rec.kind = RECORD_END;
	rec.reserved = done;
	bpf_seq_write(seq, &rec, sizeof(rec));
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
	__u32 skip = w->skip;
	w->written = 0;
	struct bpf_iter_num processes;
	struct bpf_iter_task it;
	struct task_struct *task;
	int *index;

	bpf_iter_num_new(&processes, start, count);
	while ((index = bpf_iter_num_next(&processes))) {
		__u32 i = *index;
		struct task_struct *leader = bpf_task_from_pid(w->tgids[i & (WALK_CAPACITY - 1)]);
		if (!leader) {
			skip = 0;
			continue; /* the process exited */
		}

		/* A process whose threads do not fit in what is left of this run begins the next one, so that a process is
		 * split across runs only when it alone has more threads than a run holds (or grew in between). */
		int threads = leader->signal->nr_threads;
		if (w->written > 0 && skip == 0 && w->written + threads > RECORDS_PER_RUN) {
			bpf_task_release(leader);
			bpf_iter_num_destroy(&processes);
			write_end(seq, i, 0, 0);
			return 0;
		}

		w->seen = 0;
		bool full = false;
		bpf_iter_task_new(&it, leader, BPF_TASK_ITER_PROC_THREADS);
		while ((task = bpf_iter_task_next(&it))) {
			if (w->seen++ < skip)
				continue;
			if (w->written >= RECORDS_PER_RUN) {
				full = true;
				break;
			}
			write_thread(seq, task);
			w->written++;
		}
		bpf_iter_task_destroy(&it);
		bpf_task_release(leader);
		if (full) {
			bpf_iter_num_destroy(&processes);
			write_end(seq, i, w->seen - 1, 0);
			return 0;
		}
		skip = 0;
	}
	bpf_iter_num_destroy(&processes);

	if (!w->leaders) {
		write_end(seq, count, 0, 1);
		return 0;
	}

	/* The leaders' pass: skip counts the leaders a previous run got through. */
	w->seen = 0;
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_PROCS);
	while ((task = bpf_iter_task_next(&it))) {
		if (w->seen++ < skip)
			continue;
		__u32 tgid = task->tgid;
		if (bpf_map_lookup_elem(&tgids, &tgid))
			continue;
		if (w->written >= RECORDS_PER_RUN) {
			bpf_iter_task_destroy(&it);
			write_end(seq, count, w->seen - 1, 0);
			return 0;
		}
		if (check_leader(seq, task))
			w->written++;
	}
	bpf_iter_task_destroy(&it);
	write_end(seq, count, 0, 1);
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

char LICENSE[] SEC("license") = "Dual MIT/GPL";
