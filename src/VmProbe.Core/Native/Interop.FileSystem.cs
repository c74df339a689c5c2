using System.Runtime.InteropServices;

namespace VmProbe.Native;

internal static partial class Interop
{
    /// <summary>Path calls of the textfile writer: errno matters to it, so no System.IO (which maps errno to exceptions).</summary>
    internal static partial class Libc
    {
        [LibraryImport(Libraries.Libc, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Rename(string oldPath, string newPath);

        internal const uint RenameExchange = 2; // RENAME_EXCHANGE (Linux 3.15+; ext4, xfs, btrfs, tmpfs)

        [LibraryImport(Libraries.Libc, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Unlink(string path);

        [LibraryImport(Libraries.Libc, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int MkDir(string path, int mode);
    }
}
