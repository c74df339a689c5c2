namespace VmProbe;

/// <summary>Per-cycle scratch state that a discovery or source shares with the others (see <see cref="CycleState"/>).</summary>
public interface ICycleScoped
{
    /// <summary>Called at the start of every cycle: what was made in the previous cycle is no longer current.</summary>
    void BeginCycle();
}

/// <summary>
/// The state shared by the parts of one cycle, one instance per type, created on first use and kept across cycles (so
/// that buffers are reused); <see cref="BeginCycle"/> tells every instance a new cycle started. A part asks for what it
/// needs by type, so the model knows nothing of the sources' state types. Not thread-safe: a cycle runs on one thread.
/// </summary>
public sealed class CycleState
{
    private readonly List<ICycleScoped> _items = new();

    public T Get<T>()
        where T : class, ICycleScoped, new()
    {
        foreach (var item in _items)
        {
            if (item is T found)
            {
                return found;
            }
        }

        var created = new T();
        _items.Add(created);
        return created;
    }

    public void BeginCycle()
    {
        foreach (var item in _items)
        {
            item.BeginCycle();
        }
    }
}

/// <summary>A discovery that makes state the sources can reuse: the cycle hands it the <see cref="CycleState"/> before discovering.</summary>
internal interface ISharesCycleState
{
    CycleState? Shared { get; set; }
}
