using Xunit;

namespace VmProbe.Tests.Probe;

public class ConcurrentDisposalTests
{
    [Fact]
    public void PartsAreDisposedSideBySideAndEveryFailureIsHandedBackInOrder()
    {
        // Each part waits until all have begun: disposed one after the other, the first would wait in vain.
        using var allBegun = new CountdownEvent(4);
        var parts = Enumerable.Range(0, 4).Select(i => new Part(allBegun, fail: i is 1 or 3)).ToList();
        var failed = ConcurrentDisposal.DisposeAll(parts);

        Assert.All(parts, p => Assert.True(p.Disposed));
        Assert.All(parts, p => Assert.True(p.SawAllBegin, "a part was disposed before the others began: not side by side"));
        Assert.Equal(new IDisposable[] { parts[1], parts[3] }, failed.Select(f => f.Part));
        Assert.All(failed, f => Assert.IsType<InvalidOperationException>(f.Error));
        Assert.Equal(Environment.CurrentManagedThreadId, parts[3].DisposedOnThread); // the last one on the caller's thread
    }

    [Fact]
    public void NoPartsAndOnePart()
    {
        Assert.Empty(ConcurrentDisposal.DisposeAll(Array.Empty<IDisposable>()));
        using var begun = new CountdownEvent(1);
        var only = new Part(begun, fail: false);
        Assert.Empty(ConcurrentDisposal.DisposeAll(new[] { only }));
        Assert.Equal(Environment.CurrentManagedThreadId, only.DisposedOnThread);
    }

    private sealed class Part(CountdownEvent allBegun, bool fail) : IDisposable
    {
        public bool Disposed { get; private set; }

        public bool SawAllBegin { get; private set; }

        public int DisposedOnThread { get; private set; }

        public void Dispose()
        {
            DisposedOnThread = Environment.CurrentManagedThreadId;
            allBegun.Signal();
            SawAllBegin = allBegun.Wait(TimeSpan.FromSeconds(10));
            Disposed = true;
            if (fail)
            {
                throw new InvalidOperationException("closing failed");
            }
        }
    }
}
