using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>struct ts_record (programs/tstore.h): one non-zero slot of a thread's task-storage block, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ThreadCountRecord
{
    public const int Size = 24;

    public AggCountKey Key;
    public ulong Count;
}

/// <summary>
/// The per-thread counts that programs/tstore.h keeps in task-local storage, read once a cycle through its
/// <c>iter/task</c> program (<c>dump_thread_counts</c>): one iterator fd created, read to the end into a reused buffer,
/// closed. The storage is freed by the kernel with each task; <see cref="Drop"/> deletes a live process's blocks. Not
/// thread-safe.
/// </summary>
internal sealed class ThreadCounts
{
    public const string IteratorProgram = "dump_thread_counts";
    public const string StorageMap = "thread_counts";
    public const string DropMap = "ts_drop";
    public const string CreatedMap = "ts_created";

    private readonly BpfObject _object;
    private readonly BpfLinkHandle _link;
    private readonly BpfMap _drop;
    private readonly BpfMap _created;
    private bool _anyBlock;
    private byte[] _buffer = new byte[256 * ThreadCountRecord.Size];

    private ThreadCounts(BpfObject obj, BpfLinkHandle link)
    {
        _object = obj;
        _link = link;
        _drop = obj.Map(DropMap);
        _created = obj.Map(CreatedMap);
    }

    /// <summary>Iterator walks done (for tests: none while no block was ever created).</summary>
    public long Walks { get; private set; }

    /// <summary>Attaches the iterator of a loaded object that has tstore.h (the object owns the link).</summary>
    public static ThreadCounts Attach(BpfObject obj) => new(obj, obj.AttachIterator(IteratorProgram));

    /// <summary>Appends every non-zero (process, thread, f1, f2) slot of every live block; returns how many.</summary>
    public int ReadInto(List<KeyValuePair<AggCountKey, ulong>> into)
    {
        if (!AnyBlock())
        {
            return 0;
        }

        var length = Run();
        var records = MemoryMarshal.Cast<byte, ThreadCountRecord>(_buffer.AsSpan(0, length));
        foreach (var r in records)
        {
            into.Add(new(r.Key, r.Count));
        }

        return records.Length;
    }

    /// <summary>Deletes the blocks of every thread of <paramref name="tgid"/> (they start again from zero if it goes on).</summary>
    public void Drop(uint tgid)
    {
        if (!AnyBlock())
        {
            return;
        }

        _drop.Update(tgid, 1u);
        try
        {
            Run(); // the iterator deletes the blocks of processes in ts_drop instead of writing them
        }
        finally
        {
            _drop.Delete(tgid);
        }
    }

    // The walk visits every task of the host; until a program has created a block there is nothing to find. One map
    // read a cycle until then, none after (the count only grows).
    private bool AnyBlock() => _anyBlock || (_anyBlock = _created.TryLookup(0u, out ulong created) && created > 0);

    private int Run()
    {
        Walks++;
        ObjectDisposedException.ThrowIf(_link.IsClosed, this);
        var length = BpfIteratorRead.Run(_link, ref _buffer, $"{_object.Name}/{IteratorProgram}");

        // The kernel writes whole records; anything else is a program and reader out of step: refuse to misread.
        return length % ThreadCountRecord.Size == 0
            ? length
            : throw new BpfException($"{_object.Name}/{IteratorProgram} returned {length} bytes, not whole {ThreadCountRecord.Size}-byte records",
                "bpf,layout", ProbeErrorKind.InvalidData);
    }
}
