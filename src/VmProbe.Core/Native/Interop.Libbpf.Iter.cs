using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>
    /// BPF iterators (libbpf.h, bpf.h): a program attached as an iterator is a link; every bpf_iter_create on the link's
    /// fd gives a new seq file that runs the program over the kernel objects as it is read (read(2) to 0, then close).
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        /// <summary>
        /// struct bpf_link *bpf_program__attach_iter(const struct bpf_program *prog, const struct bpf_iter_attach_opts *opts):
        /// opts NULL iterates every object of the kind; NULL and errno on failure.
        /// </summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial IntPtr bpf_program__attach_iter(IntPtr program, void* options);

        /// <summary>int bpf_link__fd(const struct bpf_link *link): the link's fd, owned by the link.</summary>
        [LibraryImport(Libraries.Libbpf)]
        public static partial int bpf_link__fd(BpfLinkHandle link);

        /// <summary>int bpf_iter_create(int link_fd): a new iterator fd (the caller closes it), or a negative errno.</summary>
        [LibraryImport(Libraries.Libbpf, SetLastError = true)]
        public static partial int bpf_iter_create(int linkFd);
    }
}
