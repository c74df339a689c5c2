using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    internal static unsafe partial class Libbpf
    {
        /// <summary>const char *bpf_program__name(const struct bpf_program *prog).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial IntPtr bpf_program__name(IntPtr program);

        /// <summary>int bpf_program__fd(const struct bpf_program *prog): the loaded program's fd (owned by the object).</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_program__fd(IntPtr program);

        /// <summary>struct bpf_link *bpf_program__attach(const struct bpf_program *prog): attaches by its SEC() name; NULL and errno.</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial IntPtr bpf_program__attach(IntPtr program);

        /// <summary>int bpf_program__set_autoload(struct bpf_program *prog, bool autoload): before load; false leaves it out.</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_program__set_autoload(IntPtr program, [MarshalAs(UnmanagedType.U1)] bool autoload);

        /// <summary>int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts): BPF_PROG_TEST_RUN; 0, or -errno.</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_prog_test_run_opts(int programFd, BpfTestRunOptions* options);

        /// <summary>int bpf_link__destroy(struct bpf_link *link): detaches and frees.</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_link__destroy(IntPtr link);
    }
}
