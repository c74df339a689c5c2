using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>
    /// Map access. Map fds belong to their bpf_object (closed by bpf_object__close), so these take the raw fd that
    /// bpf_map__fd returned; <c>Bpf/BpfMap</c> holds its object alive while it uses one.
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        /// <summary>int bpf_map__fd(const struct bpf_map *map).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_map__fd(IntPtr map);

        /// <summary>__u32 bpf_map__key_size(const struct bpf_map *map).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial uint bpf_map__key_size(IntPtr map);

        /// <summary>__u32 bpf_map__value_size(const struct bpf_map *map).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial uint bpf_map__value_size(IntPtr map);

        /// <summary>int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries): before load only.</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_map__set_max_entries(IntPtr map, uint maxEntries);

        /// <summary>int bpf_map__set_autocreate(struct bpf_map *map, bool autocreate): before load; false leaves it out (libbpf 1.0+).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_map__set_autocreate(IntPtr map, [MarshalAs(UnmanagedType.U1)] bool autocreate);

        /// <summary>__u32 bpf_map__max_entries(const struct bpf_map *map).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial uint bpf_map__max_entries(IntPtr map);

        /// <summary>int bpf_map_get_next_key(int fd, const void *key, void *next_key): key NULL for the first; -ENOENT after the last.</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_map_get_next_key(int fd, void* key, void* nextKey);

        /// <summary>int bpf_map_lookup_elem(int fd, const void *key, void *value).</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

        /// <summary>int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags).</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

        /// <summary>int bpf_map_delete_elem(int fd, const void *key).</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_map_delete_elem(int fd, void* key);

        /// <summary>
        /// int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count,
        /// const struct bpf_map_batch_opts *opts): up to *count entries per call; -ENOENT (with the last entries) at the end.
        /// </summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_map_lookup_batch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, void* options);
    }
}
