/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* The few libbpf bpf_helpers.h definitions VmProbe's programs use, declared here so the build needs only clang
 * (libbpf-dev may be absent) and the objects do not change with the installed libbpf-dev version. */
#ifndef VMPROBE_BPF_DEFS_H
#define VMPROBE_BPF_DEFS_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;
typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __always_inline inline __attribute__((always_inline))

/* enum bpf_map_type / update flags from linux/bpf.h (stable UAPI numbers). */
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_LRU_HASH 9
#define BPF_ANY 0
#define BPF_NOEXIST 1

/* Helpers by their UAPI number (enum bpf_func_id). */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;
static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181; /* 5.17+ */

/* The kernel's helper ids, for bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop): relocated by libbpf to
 * 1 or 0 against the running kernel's BTF, a constant the verifier follows, so the other branch is never walked. */
enum bpf_func_id { BPF_FUNC_loop = 181 };

/* CO-RE: enum bpf_field_info_kind BPF_FIELD_EXISTS. */
#define bpf_core_field_exists(field) __builtin_preserve_field_info(field, 2)
/* CO-RE: enum bpf_enum_value_kind BPF_ENUMVAL_EXISTS. */
#define bpf_core_enum_value_exists(enum_type, enum_value) __builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, 0)

/* A raw_tp/ program's context: the tracepoint's TP_PROTO arguments, each widened to 64 bits (uapi's layout). */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

/* The records' common header (struct trace_entry), so the tracepoint structs below match the kernel's BTF. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __attribute__((preserve_access_index));

/* sched:sched_process_exit; group_dead is newer than the tracepoint (checked with bpf_core_field_exists). */
struct trace_event_raw_sched_process_exit {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
	bool group_dead;
} __attribute__((preserve_access_index));

#endif
