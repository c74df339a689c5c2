using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// A map of a loaded <see cref="BpfObject"/>, read whole once a cycle with bpf_map_lookup_batch (one syscall per
/// <see cref="BatchSize"/> entries; maps whose kernel lacks batch ops fall back to get_next_key + lookup). The key and
/// value buffers are kept between reads, so a read allocates nothing beyond the caller's result list. Not thread-safe.
/// </summary>
public sealed unsafe class BpfMap
{
    /// <summary>Entries fetched per batch call.</summary>
    public const int BatchSize = 1024;

    private readonly SafeHandle _owner; // the bpf_object: its fd stays open while this reads
    private readonly int _fd;
    private byte[] _keys = Array.Empty<byte>();
    private byte[] _values = Array.Empty<byte>();
    private bool _noBatch;

    internal BpfMap(SafeHandle owner, string name, int fd, uint maxEntries, uint keySize, uint valueSize)
    {
        KeySize = (int)keySize;
        ValueSize = (int)valueSize;
        _owner = owner;
        _fd = fd;
        Name = name;
        MaxEntries = maxEntries;
    }

    public string Name { get; }

    /// <summary>The map's bound (max_entries), as loaded.</summary>
    public uint MaxEntries { get; }

    /// <summary>sizeof the C key and value: the layout tests compare them with the C# structs.</summary>
    public int KeySize { get; }

    public int ValueSize { get; }

    /// <summary>Appends every (key, value) to <paramref name="into"/>; returns how many.</summary>
    public int ReadAll<TKey, TValue>(List<KeyValuePair<TKey, TValue>> into)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes(sizeof(TKey), sizeof(TValue));
        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            var before = into.Count;
            if (!_noBatch && !ReadBatched(into))
            {
                _noBatch = true;
                into.RemoveRange(before, into.Count - before);
            }

            if (_noBatch)
            {
                ReadByKey(into);
            }

            return into.Count - before;
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    /// <summary>Deletes every entry for which <paramref name="match"/> is true (user space's Forget); returns how many.</summary>
    public int DeleteWhere<TKey, TValue>(Func<TKey, TValue, bool> match)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        var entries = new List<KeyValuePair<TKey, TValue>>();
        ReadAll(entries);
        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            var deleted = 0;
            foreach (var (k, v) in entries)
            {
                var key = k;
                if (match(key, v) && Interop.Libbpf.bpf_map_delete_elem(_fd, &key) == 0)
                {
                    deleted++;
                }
            }

            return deleted;
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    /// <summary>Writes one entry (BPF_ANY).</summary>
    public void Update<TKey, TValue>(TKey key, TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes(sizeof(TKey), sizeof(TValue));
        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            if (Interop.Libbpf.bpf_map_update_elem(_fd, &key, &value, 0) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new BpfException($"cannot write map {Name}: {Errno.Describe(errno)}", $"bpf_map_update_elem,{Errno.Name(errno)}", ProbeErrorKind.Unknown);
            }
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    /// <summary>Reads one entry; false when it is not there (ENOENT). Other errors throw.</summary>
    public bool TryLookup<TKey, TValue>(TKey key, out TValue value)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        CheckSizes(sizeof(TKey), sizeof(TValue));
        value = default;
        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            fixed (TValue* into = &value)
            {
                if (Interop.Libbpf.bpf_map_lookup_elem(_fd, &key, into) == 0)
                {
                    return true;
                }
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ENOENT
                ? false
                : throw new BpfException($"cannot read map {Name}: {Errno.Describe(errno)}", $"bpf_map_lookup_elem,{Errno.Name(errno)}", ProbeErrorKind.Unknown);
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    /// <summary>Deletes one entry; false when it was not there (ENOENT). Other errors throw.</summary>
    public bool Delete<TKey>(TKey key)
        where TKey : unmanaged
    {
        if (sizeof(TKey) != KeySize)
        {
            CheckSizes(sizeof(TKey), ValueSize);
        }

        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            if (Interop.Libbpf.bpf_map_delete_elem(_fd, &key) == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno == Errno.ENOENT
                ? false
                : throw new BpfException($"cannot delete from map {Name}: {Errno.Describe(errno)}", $"bpf_map_delete_elem,{Errno.Name(errno)}", ProbeErrorKind.Unknown);
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    /// <summary>
    /// Maps the values of a BPF_F_MMAPABLE array into this process, read-write and shared with the programs (the first
    /// <paramref name="bytes"/> rounded up to whole pages, at least one); null and errno where the kernel refuses (a map
    /// without the flag, a kernel before 5.5, more than the map holds).
    /// </summary>
    internal MappedMemoryHandle? TryMapValues(out int errno, int bytes = 0)
    {
        var page = Environment.SystemPageSize;
        var length = (nuint)Math.Max(page, (bytes + page - 1) / page * page);
        var added = false;
        _owner.DangerousAddRef(ref added);
        try
        {
            return MappedMemoryHandle.TryMap(_fd, length, out errno);
        }
        finally
        {
            _owner.DangerousRelease();
        }
    }

    private bool ReadBatched<TKey, TValue>(List<KeyValuePair<TKey, TValue>> into)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        var capacity = BatchSize;
        Ensure(ref _keys, capacity * sizeof(TKey));
        Ensure(ref _values, capacity * sizeof(TValue));
        ulong inToken = 0, outToken = 0;
        var first = true;
        while (true)
        {
            var count = (uint)capacity;
            int rc;
            fixed (byte* k = _keys, v = _values)
            {
                rc = Interop.Libbpf.bpf_map_lookup_batch(_fd, first ? null : &inToken, &outToken, k, v, &count, null);
            }

            var errno = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (rc != 0 && errno == Errno.ENOSPC && count == 0)
            {
                // One hash bucket holds more than the buffer: retry the same position with room for it.
                capacity *= 2;
                Ensure(ref _keys, capacity * sizeof(TKey));
                Ensure(ref _values, capacity * sizeof(TValue));
                continue;
            }

            if (rc != 0 && errno != Errno.ENOENT)
            {
                if (errno == Errno.EINVAL || errno == Errno.EOPNOTSUPP || errno == 524 /* ENOTSUPP */)
                {
                    return false;
                }

                throw new BpfException($"cannot read map {Name}: {Errno.Describe(errno)}", $"bpf_map_lookup_batch,{Errno.Name(errno)}", ProbeErrorKind.Unknown);
            }

            for (var i = 0; i < (int)count; i++)
            {
                into.Add(new(Unsafe.ReadUnaligned<TKey>(ref _keys[i * sizeof(TKey)]), Unsafe.ReadUnaligned<TValue>(ref _values[i * sizeof(TValue)])));
            }

            if (rc != 0)
            {
                return true; // ENOENT: that was the last batch
            }

            inToken = outToken;
            first = false;
        }
    }

    private void ReadByKey<TKey, TValue>(List<KeyValuePair<TKey, TValue>> into)
        where TKey : unmanaged
        where TValue : unmanaged
    {
        TKey key = default, next = default;
        TValue value = default;
        var first = true;
        while (Interop.Libbpf.bpf_map_get_next_key(_fd, first ? null : &key, &next) == 0)
        {
            first = false;
            key = next;
            if (Interop.Libbpf.bpf_map_lookup_elem(_fd, &key, &value) == 0)
            {
                into.Add(new(key, value)); // a key deleted between the two calls is skipped
            }
        }
    }

    // A C struct changed without its C# mirror would read garbage (or overrun the buffers): refuse instead.
    private void CheckSizes(int key, int value)
    {
        if (key != KeySize || value != ValueSize)
        {
            throw new BpfException($"map {Name}: key/value are {KeySize}/{ValueSize} bytes in the object, {key}/{value} in the reader",
                "bpf,layout", ProbeErrorKind.InvalidData);
        }
    }

    private static void Ensure(ref byte[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            buffer = new byte[size];
        }
    }
}
