using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// The change count of programs/agg.h (map <c>agg_gen</c>): [0] moves after a program changed anything a snapshot reads,
/// [1] is the [0] that user space read before its last walk (the programs bump [0] only while the two are equal). A
/// snapshot whose count did not move reuses its last result: no map walk, no iterator read. Read through an mmap of the
/// map (no syscall), else one map lookup. Not thread-safe.
/// </summary>
internal sealed unsafe class ChangeCount : IDisposable
{
    public const string MapName = "agg_gen";

    private readonly BpfMap _map;
    private readonly MappedMemoryHandle? _mapped;
    private ulong _walkedAt;
    private bool _valid;

    public ChangeCount(BpfMap map)
    {
        _map = map;
        _mapped = map.TryMapValues(out _);
    }

    /// <summary>Whether the count is read through the mmap (else through bpf() lookups).</summary>
    public bool Mapped => _mapped is not null;

    /// <summary>The count now ([0]; 0 when it cannot be read).</summary>
    public ulong Value => TryRead(out var value) ? value : 0;

    private bool TryRead(out ulong value)
    {
        if (_mapped is null)
        {
            return _map.TryLookup(0u, out value);
        }

        var added = false;
        _mapped.DangerousAddRef(ref added);
        try
        {
            value = Volatile.Read(ref *(ulong*)_mapped.DangerousGetHandle());
            return true;
        }
        finally
        {
            _mapped.DangerousRelease();
        }
    }

    /// <summary>
    /// Whether the caller must walk the maps: the first time, after <see cref="Invalidate"/>, and whenever the count moved
    /// since the last walk. When it must, the count is read and published in [1] before the walk, behind a full barrier:
    /// a program that changes a map during the walk then reads [1] equal to [0] and moves the count, so the next
    /// snapshot walks again.
    /// </summary>
    public bool MustWalk()
    {
        if (!TryRead(out var now))
        {
            _valid = false; // an unreadable count proves nothing: walk every time until it reads again
            return true;
        }

        if (_valid && now == _walkedAt)
        {
            return false;
        }

        Publish(now);
        _walkedAt = now;
        _valid = true;
        return true;
    }

    /// <summary>The next <see cref="MustWalk"/> says walk (user space changed the maps, or a walk failed).</summary>
    public void Invalidate() => _valid = false;

    public void Dispose() => _mapped?.Dispose();

    private void Publish(ulong now)
    {
        if (_mapped is null)
        {
            _map.Update(1u, now);
            Interlocked.MemoryBarrier(); // the update's store before the walk's loads, as the mmap path's exchange
            return;
        }

        var added = false;
        _mapped.DangerousAddRef(ref added);
        try
        {
            // [1] is the second u64 of the array's values; Exchange is a full barrier (lock xchg).
            Interlocked.Exchange(ref *((long*)_mapped.DangerousGetHandle() + 1), (long)now);
        }
        finally
        {
            _mapped.DangerousRelease();
        }
    }
}
