using System.Runtime.InteropServices;
using System.Text;

namespace VmProbe.Native;

/// <summary>
/// Loads libbpf.so.1 by soname (Debian's libbpf1) and owns libbpf's process-wide print callback. Loading up front
/// lets the Bpf layer report a missing library as its own typed reason instead of a DllNotFoundException at the first
/// call; tests pass another soname to see that path. libbpf's messages go to <see cref="Sink"/> (the probe log at
/// debug level); warnings printed on the calling thread are also kept for the error text of a failed load.
/// </summary>
internal static unsafe class LibbpfLibrary
{
    public const string Name = Interop.Libraries.Libbpf;

    private static readonly object Gate = new();
    private static bool _loaded;
    private static string? _loadFailure;
    private static bool _printInstalled;

    [ThreadStatic]
    private static List<string>? _capturedWarnings;

    /// <summary>Where libbpf's lines go (level name, text); null drops them. Set by the Bpf layer.</summary>
    public static volatile Action<string>? Sink;

    /// <summary>Loads the soname (the default once, cached); false with a one-line reason naming the package.</summary>
    public static bool TryLoad(out string? failure) => TryLoad(Name, out failure);

    /// <summary>Loads <paramref name="soname"/>: only <see cref="Name"/> is remembered (the P/Invokes bind to it).</summary>
    public static bool TryLoad(string soname, out string? failure)
    {
        failure = null;
        if (soname != Name)
        {
            if (NativeLibrary.TryLoad(soname, typeof(LibbpfLibrary).Assembly, null, out var other))
            {
                NativeLibrary.Free(other);
                return true;
            }

            failure = Describe(soname);
            return false;
        }

        lock (Gate)
        {
            if (_loaded)
            {
                return true;
            }

            if (_loadFailure is null && !NativeLibrary.TryLoad(Name, typeof(LibbpfLibrary).Assembly, null, out _))
            {
                _loadFailure = Describe(Name);
            }

            failure = _loadFailure;
            _loaded = failure is null;
            if (_loaded && !_printInstalled)
            {
                // Without a callback libbpf writes to stderr, which is the runner's log and the user's console.
                Interop.Libbpf.libbpf_set_print(&Print);
                _printInstalled = true;
            }

            return _loaded;
        }
    }

    internal static string Describe(string soname) =>
        $"{soname} not found: install libbpf1 (Debian/Ubuntu) or libbpf (RHEL/Fedora) to trace KVM with eBPF.";

    /// <summary>Starts keeping the warnings libbpf prints on this thread (the verifier's log, a failed attach).</summary>
    public static void BeginCapture() => _capturedWarnings = new List<string>();

    /// <summary>The warnings kept since <see cref="BeginCapture"/>; stops keeping them.</summary>
    public static IReadOnlyList<string> EndCapture()
    {
        var lines = _capturedWarnings ?? new List<string>();
        _capturedWarnings = null;
        return lines;
    }

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, IntPtr args)
    {
        try
        {
            const int size = 4096;
            var buffer = stackalloc byte[size];
            var n = Interop.Libc.VsnPrintf(buffer, size, format, args);
            if (n <= 0)
            {
                return 0;
            }

            var text = Encoding.UTF8.GetString(buffer, Math.Min(n, size - 1)).TrimEnd('\n');
            if (level == 0)
            {
                _capturedWarnings?.Add(text); // LIBBPF_WARN
            }

            Sink?.Invoke(text);
            return n;
        }
        catch
        {
            return 0; // never unwind into libbpf
        }
    }
}
