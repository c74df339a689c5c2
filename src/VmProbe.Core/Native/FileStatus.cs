using System.Text;

namespace VmProbe.Native;

/// <summary>Owner and mode of a file through statx(2), following symlinks as stat(2) does.</summary>
internal static unsafe class FileStatus
{
    internal const uint StatxMode = 0x2;
    internal const uint StatxUid = 0x8;

    /// <summary>False (owner <see cref="uint.MaxValue"/>, mode 0) when the path cannot be examined.</summary>
    internal static bool TryGetOwnerAndMode(string path, out uint owner, out uint mode)
    {
        owner = uint.MaxValue;
        mode = 0;
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        Interop.Libc.Statx statx;
        fixed (byte* p = bytes)
        {
            if (Interop.Libc.StatX(Interop.Libc.AtFdCwd, p, 0, StatxMode | StatxUid, &statx) != 0)
            {
                return false;
            }
        }

        if ((statx.Mask & (StatxMode | StatxUid)) != (StatxMode | StatxUid))
        {
            return false;
        }

        owner = statx.Uid;
        mode = statx.Mode;
        return true;
    }
}
