using System.Reflection;
using System.Runtime.InteropServices;
using VmProbe.Native;

namespace VmProbe.Bpf;

/// <summary>
/// One loaded BPF ELF object (libbpf's bpf_object) and the links of the programs attached from it. Opened from bytes
/// (the objects embedded in this assembly, <see cref="LoadEmbedded"/>), loaded (verifier) at once, programs attached by
/// name. Dispose detaches every link and closes the object (its programs and maps); a constructor or attach that fails
/// releases what it made before throwing.
/// </summary>
public sealed class BpfObject : IDisposable
{
    private readonly BpfObjectHandle _handle;
    private readonly List<(string Name, BpfLinkHandle Link)> _links = new();
    private readonly Dictionary<string, BpfMap> _maps = new(StringComparer.Ordinal);

    private BpfObject(BpfObjectHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    /// <summary>The object's name (the embedded file without .bpf.o), as bpftool shows it.</summary>
    public string Name { get; }

    /// <summary>Names of the attached programs, in attach order.</summary>
    public IReadOnlyList<string> AttachedPrograms => _links.Select(l => l.Name).ToArray();

    /// <summary>The bytes of an object embedded in VmProbe.Core (<c>kvm_exits</c>, <c>selftest</c>).</summary>
    public static byte[] LoadEmbedded(string name)
    {
        var resource = $"VmProbe.Bpf.{name}.bpf.o";
        using var stream = typeof(BpfObject).Assembly.GetManifestResourceStream(resource)
            ?? throw new BpfException($"no embedded BPF object {resource} in {typeof(BpfObject).Assembly.GetName().Name}", "bpf,noobject", ProbeErrorKind.NotFound);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// Checks availability, opens <paramref name="elf"/>, sizes maps (<paramref name="maxEntries"/>: map name -> entries,
    /// before load) and loads every program but those named in <paramref name="leaveOut"/> (programs, and maps that are
    /// then not created: a fallback without what an older kernel refuses). Throws <see cref="BpfUnavailableException"/>
    /// or <see cref="BpfException"/>.
    /// </summary>
    public static unsafe BpfObject Load(string name, byte[] elf, IReadOnlyDictionary<string, uint>? maxEntries = null, IProbeLog? log = null,
        IReadOnlyCollection<string>? leaveOut = null)
    {
        ArgumentNullException.ThrowIfNull(elf);
        BpfAvailability.Check();
        // Replaced on every load: a sink left from an earlier load could be a log of another command or thread.
        LibbpfLibrary.Sink = log is not null && log.IsEnabled(LogLevel.Debug) ? line => log.Write(LogLevel.Debug, "libbpf: " + line) : null;

        var nameBytes = Marshal.StringToCoTaskMemUTF8(name);
        LibbpfLibrary.BeginCapture();
        BpfObjectHandle? handle = null;
        try
        {
            var options = new BpfObjectOpenOptions { Size = (nuint)sizeof(BpfObjectOpenOptions), ObjectName = (byte*)nameBytes };
            IntPtr raw;
            fixed (byte* data = elf)
            {
                raw = Interop.Libbpf.bpf_object__open_mem(data, (nuint)elf.Length, &options);
            }

            if (raw == IntPtr.Zero)
            {
                throw BpfAvailability.FromLoadError("bpf_object__open_mem", Marshal.GetLastPInvokeError(), Detail(name));
            }

            handle = new BpfObjectHandle(raw);
            foreach (var (map, entries) in maxEntries ?? new Dictionary<string, uint>())
            {
                var mapPtr = Interop.Libbpf.bpf_object__find_map_by_name(handle, map);
                if (mapPtr == IntPtr.Zero || Interop.Libbpf.bpf_map__set_max_entries(mapPtr, entries) != 0)
                {
                    throw new BpfException($"{name}: no map '{map}' to size (maxEntries)", "bpf_map__set_max_entries,ENOENT", ProbeErrorKind.InvalidArgument);
                }
            }

            foreach (var item in leaveOut ?? Array.Empty<string>())
            {
                LeaveOut(handle, name, item);
            }

            var rc = Interop.Libbpf.bpf_object__load(handle);
            if (rc != 0)
            {
                throw BpfAvailability.FromLoadError("bpf_object__load", -rc, Detail(name));
            }

            var result = new BpfObject(handle, name);
            handle = null;
            return result;
        }
        finally
        {
            handle?.Dispose();
            LibbpfLibrary.EndCapture();
            Marshal.FreeCoTaskMem(nameBytes);
        }
    }

    /// <summary>
    /// Runs a loaded raw_tp program once in the kernel (BPF_PROG_TEST_RUN) on the calling thread, with
    /// <paramref name="args"/> as its tracepoint's arguments; returns what the program returned. Lets tests drive
    /// programs whose tracepoints never fire on the machine (the kvm ones on a host without /dev/kvm).
    /// </summary>
    internal unsafe uint TestRunRawTracepoint(string program, ReadOnlySpan<ulong> args)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var fd = ProgramFd(program);
        fixed (ulong* context = args)
        {
            var options = new BpfTestRunOptions { Size = (nuint)sizeof(BpfTestRunOptions), ContextIn = context, ContextSizeIn = (uint)(args.Length * sizeof(ulong)) };
            var result = Interop.Libbpf.bpf_prog_test_run_opts(fd, &options);
            GC.KeepAlive(_handle); // the program's fd lives as long as the object's handle
            return result == 0
                ? options.ReturnValue
                : throw new BpfException($"{Name}/{program}: test run failed: {Errno.Describe(-result)}", $"bpf_prog_test_run_opts,{Errno.Name(-result)}", ProbeErrorKind.InvalidArgument);
        }
    }

    /// <summary>Names of the programs that were loaded (all but those left out), in object order.</summary>
    public IReadOnlyList<string> LoadedPrograms() => Programs().Where(p => ProgramFd(p) >= 0).ToArray();

    /// <summary>Attaches one program by its C function name (its SEC() says where). Throws naming the program.</summary>
    public void Attach(string program)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var prog = FindProgram(program);
        LibbpfLibrary.BeginCapture();
        try
        {
            var link = Interop.Libbpf.bpf_program__attach(prog);
            if (link == IntPtr.Zero)
            {
                throw BpfAvailability.FromLoadError("bpf_program__attach", Marshal.GetLastPInvokeError(), Detail($"{Name}/{program}"));
            }

            _links.Add((program, new BpfLinkHandle(link)));
        }
        finally
        {
            LibbpfLibrary.EndCapture();
        }
    }

    /// <summary>
    /// Attaches an iterator program (SEC("iter/...")) over every object of its kind, or a task iterator over the one thread
    /// <paramref name="onlyThread"/> (Linux 6.1+), and returns its link, which the object owns and detaches at Dispose;
    /// <c>bpf_iter_create</c> on the link's fd runs it (<see cref="TaskIterator"/>).
    /// </summary>
    internal BpfLinkHandle AttachIterator(string program, int? onlyThread = null)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var prog = FindProgram(program);
        LibbpfLibrary.BeginCapture();
        try
        {
            unsafe
            {
                var info = new BpfIterTaskLinkInfo { Tid = (uint)(onlyThread ?? 0) };
                var options = new BpfIterAttachOptions { Size = (nuint)sizeof(BpfIterAttachOptions), LinkInfo = &info, LinkInfoLength = (uint)sizeof(BpfIterTaskLinkInfo) };
                var link = Interop.Libbpf.bpf_program__attach_iter(prog, onlyThread is null ? null : &options);
                if (link == IntPtr.Zero)
                {
                    throw BpfAvailability.FromLoadError("bpf_program__attach_iter", Marshal.GetLastPInvokeError(), Detail($"{Name}/{program}"));
                }

                var handle = new BpfLinkHandle(link);
                _links.Add((program, handle));
                return handle;
            }
        }
        finally
        {
            LibbpfLibrary.EndCapture();
        }
    }

    /// <summary>Names of every program in the object.</summary>
    public IReadOnlyList<string> Programs()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var names = new List<string>();
        for (var p = Interop.Libbpf.bpf_object__next_program(_handle, IntPtr.Zero); p != IntPtr.Zero; p = Interop.Libbpf.bpf_object__next_program(_handle, p))
        {
            names.Add(Marshal.PtrToStringUTF8(Interop.Libbpf.bpf_program__name(p)) ?? string.Empty);
        }

        return names;
    }

    /// <summary>The loaded program's fd (owned by the object), for tests that look it up in /proc/self/fdinfo.</summary>
    public int ProgramFd(string program) => Interop.Libbpf.bpf_program__fd(FindProgram(program));

    /// <summary>A map of the object by name; the same instance every time.</summary>
    public BpfMap Map(string name)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_maps.TryGetValue(name, out var map))
        {
            return map;
        }

        var ptr = Interop.Libbpf.bpf_object__find_map_by_name(_handle, name);
        if (ptr == IntPtr.Zero)
        {
            throw new BpfException($"{Name}: no map '{name}'", "bpf_object__find_map_by_name,ENOENT", ProbeErrorKind.NotFound);
        }

        map = new BpfMap(_handle, name, Interop.Libbpf.bpf_map__fd(ptr), Interop.Libbpf.bpf_map__max_entries(ptr),
            Interop.Libbpf.bpf_map__key_size(ptr), Interop.Libbpf.bpf_map__value_size(ptr));
        _maps[name] = map;
        return map;
    }

    public void Dispose()
    {
        // Links first: a program is detached before the object that owns it is closed.
        try
        {
            DetachAll();
        }
        finally
        {
            _links.Clear();
            _handle.Dispose();
        }
    }

    // Detaching a tracepoint program waits for RCU grace periods (10-35 ms each on a small VM): one after the other,
    // the 12 links of kvm_exits took a quarter of a second at exit. Detached from threads of their own, the waits overlap.
    private void DetachAll()
    {
        var failed = ConcurrentDisposal.DisposeAll(_links.Select(l => (IDisposable)l.Link).ToList(), stackSize: 64 * 1024);
        if (failed.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed[0].Error);
        }
        else if (failed.Count > 1)
        {
            throw new AggregateException("Detaching some eBPF links failed.", failed.Select(f => f.Error));
        }
    }

    private static void LeaveOut(BpfObjectHandle handle, string name, string item)
    {
        var program = Interop.Libbpf.bpf_object__find_program_by_name(handle, item);
        if (program != IntPtr.Zero)
        {
            Interop.Libbpf.bpf_program__set_autoload(program, false);
            return;
        }

        var map = Interop.Libbpf.bpf_object__find_map_by_name(handle, item);
        if (map == IntPtr.Zero || Interop.Libbpf.bpf_map__set_autocreate(map, false) != 0)
        {
            throw new BpfException($"{name}: no program or map '{item}' to leave out", "bpf_object__find_program_by_name,ENOENT", ProbeErrorKind.InvalidArgument);
        }
    }

    private IntPtr FindProgram(string program)
    {
        var prog = Interop.Libbpf.bpf_object__find_program_by_name(_handle, program);
        return prog != IntPtr.Zero
            ? prog
            : throw new BpfException($"{Name}: no program '{program}'", "bpf_object__find_program_by_name,ENOENT", ProbeErrorKind.NotFound);
    }

    // The last lines libbpf printed (the verifier's complaint, the missing tracepoint) make the message actionable.
    private static string Detail(string what)
    {
        var lines = LibbpfLibrary.EndCapture();
        LibbpfLibrary.BeginCapture();
        var tail = lines.Where(l => l.Length > 0).TakeLast(3).ToArray();
        return $" ({what})" + (tail.Length > 0 ? ": " + string.Join(" | ", tail) : string.Empty);
    }
}
