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
#define RECORD_END 3        /* dump_tracked's last record of a run: tgid = next start, tid = next after, reserved = done */

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

#include "task_walk.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
