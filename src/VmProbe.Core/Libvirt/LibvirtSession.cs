using System.Collections.Concurrent;
using VmProbe.Native;

namespace VmProbe.Libvirt;

/// <summary>
/// Owns a libvirt connection and runs every call on a dedicated worker thread with a deadline, so a hung libvirtd
/// (or a domain whose monitor hangs) cannot stall the collection cycle. Past the deadline the caller stops waiting and
/// gets <see cref="LibvirtTimeoutException"/>; the call stays on the worker (a connection is never closed from another
/// thread while a call is inside it). At most one libvirt call is ever outstanding and no thread is added: while the
/// late call has not returned, every call fails at once with <see cref="LibvirtTimeoutException"/> without being issued;
/// once it returns (its result is dropped), the next call runs on the same worker and connection. A lost connection
/// (RPC/system error, daemon restart) is reopened on the next call. Failures are logged once per state change
/// (connected -> failed -> connected); a repeated failure is thrown with <see cref="LibvirtException.AlreadyReported"/> set.
/// </summary>
internal sealed class LibvirtSession : IDisposable
{
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly IProbeLog _log;
    private Worker? _worker;
    private WorkItem? _late;
    private string? _failedErrorId;
    private bool _everConnected;
    private bool _disposed;

    public LibvirtSession(string uri, TimeSpan callTimeout, IProbeLog log)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        if (callTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(callTimeout), callTimeout, "The libvirt call timeout must be positive.");
        }

        Uri = uri;
        CallTimeout = callTimeout;
        _log = log;
    }

    public string Uri { get; }

    public TimeSpan CallTimeout { get; }

    /// <summary>True after a successful call, false after a failed one (and before the first call).</summary>
    public bool IsHealthy { get; private set; }

    /// <summary>How many calls passed their deadline (each was left to finish on the worker, never re-issued).</summary>
    public int TimedOutCalls { get; private set; }

    /// <summary>True while a call that passed its deadline has not returned: calls fail at once instead of being issued.</summary>
    public bool HasLateCall
    {
        get
        {
            lock (_gate)
            {
                return _late is { Done.IsSet: false };
            }
        }
    }

    /// <summary>
    /// The per-call deadline for a probe running one cycle every <paramref name="delayMs"/> ms: half the delay, at most
    /// <paramref name="cap"/>, so that a hung libvirtd costs a cycle at most half its period.
    /// </summary>
    public static TimeSpan DeadlineFor(int delayMs, TimeSpan cap)
    {
        var half = TimeSpan.FromMilliseconds(Math.Max(1, delayMs / 2));
        return cap > TimeSpan.Zero && cap < half ? cap : half;
    }

    /// <summary>
    /// Runs <paramref name="call"/> on the worker's connection (opening it first when needed) and waits at most
    /// <see cref="CallTimeout"/>. Throws the call's <see cref="VmProbeException"/>, or <see cref="LibvirtTimeoutException"/>.
    /// </summary>
    public T Run<T>(string operation, Func<LibvirtConnection, T> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        Worker worker;
        var stillLate = false;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_late is not null)
            {
                if (_late.Done.IsSet)
                {
                    _late = null; // It returned at last: its result is stale, its connection (if alive) serves again.
                }
                else
                {
                    stillLate = true;
                }
            }

            if (_worker?.Faulted is not null)
            {
                _worker = null; // Its thread ended on an error outside a call: start a new one.
            }

            worker = _worker ??= new Worker(Uri);
        }

        if (stillLate)
        {
            // Issuing another call would only queue it behind the hung one (or pile up threads and connections).
            throw Failed(new LibvirtTimeoutException(operation, Uri, CallTimeout, stillHung: true));
        }

        if (FdShortage(operation) is { } shortage)
        {
            throw Failed(shortage);
        }

        var item = new WorkItem(connection => call(connection)!);
        if (!worker.TryPost(item))
        {
            var faulted = worker.Faulted;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
            }

            if (faulted is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(faulted).Throw();
            }

            throw new ObjectDisposedException(nameof(LibvirtSession));
        }
        bool completed;
        try
        {
            completed = item.Done.Wait(CallTimeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _late = item;
            }

            throw;
        }

        if (!completed)
        {
            lock (_gate)
            {
                _late = item;
            }

            TimedOutCalls++;
            throw Failed(new LibvirtTimeoutException(operation, Uri, CallTimeout));
        }

        if (item.Error is not null)
        {
            if (item.Error is VmProbeException probeError)
            {
                throw Failed(probeError);
            }

            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(item.Error).Throw();
        }

        Succeeded(worker);
        return (T)item.Result!;
    }

    /// <summary>
    /// libvirt (GLib) aborts the process when it cannot create a pipe or eventfd (g_error "Creating pipes for GWakeup:
    /// Too many open files"), which no catch can stop: a call is not issued with fewer than this many fds free.
    /// </summary>
    internal const int MinFreeFds = 8;

    /// <summary>The EMFILE failure when fewer than <see cref="MinFreeFds"/> fds are free under RLIMIT_NOFILE, else null.</summary>
    internal static VmProbeException? FdShortage(string operation)
    {
        try
        {
            return FdShortage(operation, ProcessFds.CountOpen(), NoFileSoftLimit());
        }
        catch (Exception)
        {
            return null; // Unknown: let libvirt try.
        }
    }

    private static unsafe ulong NoFileSoftLimit()
    {
        Interop.Libc.RLimit limit;
        return Interop.Libc.GetRLimit(Interop.Libc.RlimitNoFile, &limit) == 0 ? limit.Current : 0;
    }

    internal static VmProbeException? FdShortage(string operation, long openFds, ulong limit)
    {
        if (openFds < 0 || limit == 0 || (ulong)openFds + MinFreeFds <= limit)
        {
            return null;
        }

        return new VmProbeException(
            System.FormattableString.Invariant(
                $"too many open files: {Math.Min((ulong)openFds, limit)} of the {limit} allowed (RLIMIT_NOFILE) are open, so libvirt {operation} was not issued (libvirt aborts the process when it cannot open a pipe); raise the limit (ulimit -n, LimitNOFILE=) [EMFILE]"),
            operation + ",EMFILE",
            ProbeErrorKind.ResourceUnavailable);
    }

    /// <summary>
    /// How long <see cref="Dispose"/> waits for a call still running on the worker (one that passed its deadline) to
    /// return and the connection to close. The process must not exit while a libvirt call or close runs: exit runs the
    /// libraries' destructors (libxml2's parser cleanup, gnutls' deinit) under it. A daemon hung for longer is left to it.
    /// </summary>
    internal static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    public void Dispose()
    {
        Worker? worker;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            worker = _worker;
            _worker = null;
        }

        if (worker is not null && !worker.Stop(CloseWait))
        {
            _log.Write(LogLevel.Warning, $"libvirt {Uri}: a call was still running {CloseWait.TotalSeconds:0} s after close was asked; left to finish on its own thread");
        }
    }

    private VmProbeException Failed(VmProbeException error)
    {
        IsHealthy = false;
        // Timeouts of the listing and of the bulk stats alternate while libvirtd hangs: one state, logged once.
        var stateId = error is LibvirtTimeoutException ? "Timeout" : error.ErrorId;
        var repeated = _failedErrorId == stateId;
        _failedErrorId = stateId;
        if (error is LibvirtException libvirtError)
        {
            libvirtError.AlreadyReported = repeated;
        }

        // A missing libvirt.so.0 is no connection event: the first part of the cycle that hits it logs it, once.
        if (repeated || error is LibvirtUnavailableException)
        {
            if (_log.IsEnabled(LogLevel.Debug))
            {
                _log.Write(LogLevel.Debug, $"libvirt {Uri}: still failing: {error.Message}");
            }
        }
        else
        {
            _log.Write(LogLevel.Warning, $"libvirt {Uri}: {error.Message}");
        }

        return error;
    }

    private void Succeeded(Worker worker)
    {
        if (IsHealthy)
        {
            return;
        }

        IsHealthy = true;
        var version = worker.DaemonVersion == 0 ? "unknown" : LibvirtConnection.FormatVersion(worker.DaemonVersion);
        _log.Write(LogLevel.Info, _everConnected || _failedErrorId is not null
            ? $"libvirt {Uri}: connection restored (libvirt {version})"
            : $"libvirt {Uri}: connected (libvirt {version})");
        _everConnected = true;
        _failedErrorId = null;
    }

    private sealed class WorkItem
    {
        public WorkItem(Func<LibvirtConnection, object> call) => Call = call;

        public Func<LibvirtConnection, object>? Call { get; }

        public ManualResetEventSlim Done { get; } = new(false);

        public object? Result { get; set; }

        public Exception? Error { get; set; }
    }

    /// <summary>One thread and the connection it alone uses (libvirt errors are thread-local; closing is safe only here).</summary>
    private sealed class Worker
    {
        private readonly string _uri;
        private readonly BlockingCollection<WorkItem> _queue = new();
        private readonly Thread _thread;
        private LibvirtConnection? _connection;

        public Worker(string uri)
        {
            _uri = uri;
            _thread = new Thread(Loop) { IsBackground = true, Name = "vmprobe-libvirt" };
            _thread.Start();
        }

        public ulong DaemonVersion { get; private set; }

        /// <summary>Queues <paramref name="item"/>; false when the worker has stopped or ended on an error.</summary>
        public bool TryPost(WorkItem item)
        {
            try
            {
                return _queue.TryAdd(item);
            }
            catch (InvalidOperationException)
            {
                return false; // Adding was completed.
            }
        }

        /// <summary>
        /// Stop taking work; the thread closes its connection and exits once its current call (if any) returns. Waits at
        /// most <paramref name="wait"/> for that; false when the thread is still running then.
        /// </summary>
        public bool Stop(TimeSpan wait)
        {
            _queue.CompleteAdding();
            return Thread.CurrentThread == _thread || _thread.Join(wait);
        }

        /// <summary>
        /// Nothing escapes this thread (an exception here would end the process): a call's failure goes to its caller,
        /// and one raised outside a call (at the fd limit even the queue or a close can fail to load or allocate) ends
        /// the worker; its pending callers are failed with it and a later call starts a new worker.
        /// </summary>
        private void Loop()
        {
            try
            {
                foreach (var item in _queue.GetConsumingEnumerable())
                {
                    Execute(item);
                }
            }
            catch (Exception error)
            {
                Fault(error);
            }
            finally
            {
                try
                {
                    _connection?.Dispose();
                }
                catch (Exception)
                {
                    // The connection is gone with the thread either way.
                }

                _connection = null;
            }
        }

        private void Fault(Exception error)
        {
            Faulted = error;
            try
            {
                _queue.CompleteAdding();
                while (_queue.TryTake(out var pending))
                {
                    pending.Error = error;
                    pending.Done.Set();
                }
            }
            catch (Exception)
            {
                // Callers still waiting get their deadline.
            }
        }

        /// <summary>Set when the thread ended on an error outside a call; the session then starts a new worker.</summary>
        public Exception? Faulted { get; private set; }

        private void Execute(WorkItem item)
        {
            try
            {
                if (_connection is not null && !_connection.IsAlive)
                {
                    _connection.Dispose();
                    _connection = null;
                }

                if (_connection is null)
                {
                    _connection = LibvirtConnection.OpenReadOnly(_uri);
                    DaemonVersion = _connection.DaemonVersion;
                }

                item.Result = item.Call!(_connection);
            }
            catch (Exception ex)
            {
                if (ex is LibvirtException { IsConnectionLost: true })
                {
                    _connection?.Dispose();
                    _connection = null;
                }

                item.Error = ex;
            }
            finally
            {
                item.Done.Set();
            }
        }
    }
}
