using VmProbe.Native;

namespace VmProbe.Procfs;

/// <summary>The host-wide files, kept open: each cycle reads them with one pread instead of an open, a read and a close.</summary>
internal sealed partial class ProcFs
{
    // Indexes into _hostPaths and _hostFiles.
    private const int StatFile = 0;
    private const int SchedStatFile = 1;
    private const int MemInfoFile = 2;
    private const int LoadAvgFile = 3;
    private const int FirstPressureFile = 4;

    private readonly string[] _hostPaths;
    private readonly KeptProcFile?[] _hostFiles;

    // Host files found missing: the kernel's configuration decides them (CONFIG_SCHEDSTATS, PSI), so they are not
    // looked for again by this reader.
    private readonly bool[] _hostFileMissing;

    /// <summary>
    /// Reads host file <paramref name="index"/> into the reader; false when it does not exist. Opened on first use and
    /// kept where the open-file limit leaves room for kept fds (<see cref="FdLimits.Fits"/>); read by path otherwise and
    /// in a process out of fds. A read that fails drops the kept fd, so that the next cycle opens the file again.
    /// </summary>
    private bool TryReadHostFile(int index)
    {
        var path = _hostPaths[index];
        var kept = _hostFiles[index];
        if (kept is null)
        {
            if (_hostFileMissing[index])
            {
                return false;
            }

            // Kept fds count against RLIMIT_NOFILE with the perf and other kept fds: under a small limit, open and close.
            if (!FdLimits.Fits(1))
            {
                return _reader.TryRead(path);
            }

            kept = _reader.TryOpenKept(path, 0, 0, Path.GetFileName(path), out var missing);
            if (kept is null)
            {
                _hostFileMissing[index] = missing;
                return !missing && _reader.TryRead(path);
            }

            _hostFiles[index] = kept;
        }

        var read = false;
        try
        {
            read = _reader.TryReadKept(kept, path, manyRecords: index == SchedStatFile);
        }
        finally
        {
            if (!read)
            {
                kept.Dispose();
                _hostFiles[index] = null;
            }
        }

        return read;
    }

    private void CloseHostFiles()
    {
        for (var i = 0; i < _hostFiles.Length; i++)
        {
            _hostFiles[i]?.Dispose();
            _hostFiles[i] = null;
        }
    }
}
