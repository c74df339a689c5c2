using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>
    /// libbpf 1.x (libbpf.h). In 1.x every call returns NULL or a negative errno and sets errno; callers read
    /// <see cref="Marshal.GetLastPInvokeError"/> after pointer-returning calls. Loaded through <see cref="LibbpfLibrary"/>.
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        /// <summary>struct bpf_object *bpf_object__open_mem(const void *buf, size_t sz, const struct bpf_object_open_opts *opts).</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial IntPtr bpf_object__open_mem(byte* buffer, nuint size, BpfObjectOpenOptions* options);

        /// <summary>int bpf_object__load(struct bpf_object *obj): 0 or -errno (the verifier's log goes to the print callback).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_object__load(BpfObjectHandle obj);

        /// <summary>void bpf_object__close(struct bpf_object *obj): unloads programs and closes map fds.</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial void bpf_object__close(IntPtr obj);

        /// <summary>struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name): borrowed.</summary>
        [LibraryImport(Libraries.Libbpf, StringMarshalling = StringMarshalling.Utf8)]
        public static partial IntPtr bpf_object__find_program_by_name(BpfObjectHandle obj, string name);

        /// <summary>struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name): borrowed.</summary>
        [LibraryImport(Libraries.Libbpf, StringMarshalling = StringMarshalling.Utf8)]
        public static partial IntPtr bpf_object__find_map_by_name(BpfObjectHandle obj, string name);

        /// <summary>struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial IntPtr bpf_object__next_program(BpfObjectHandle obj, IntPtr previous);
    }
}
