using System.Collections.Concurrent;

namespace VmProbe.Libvirt;

/// <summary>
/// Owns a libvirt connection and runs every call on a dedicated worker thread with a timeout, so a hung libvirtd
/// (or a domain whose monitor hangs) cannot stall the collection cycle. On timeout the worker and its connection are
/// abandoned — never closed from another thread while a call is inside them; the worker closes the connection itself
/// if the call ever returns — and the next call opens a fresh connection on a new worker. A lost connection
/// (RPC/system error, daemon restart) is reopened on the next call. Failures are logged once per state change
/// (connected -> failed -> connected); a repeated failure is thrown with <see cref="LibvirtException.AlreadyReported"/> set.
/// </summary>
public sealed class LibvirtSession : IDisposable
{
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly IProbeLog _log;
    private Worker? _worker;
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

    /// <summary>How many workers were abandoned because a call hung (each one still holds a thread until libvirt returns).</summary>
    public int AbandonedWorkers { get; private set; }

    /// <summary>
    /// Runs <paramref name="call"/> on the worker's connection (opening it first when needed) and waits at most
    /// <see cref="CallTimeout"/>. Throws the call's <see cref="VmProbeException"/>, or <see cref="LibvirtTimeoutException"/>.
    /// </summary>
    public T Run<T>(string operation, Func<LibvirtConnection, T> call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        Worker worker;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            worker = _worker ??= new Worker(Uri);
        }

        var item = new WorkItem(connection => call(connection)!);
        worker.Post(item);
        var completed = item.Done.Wait(CallTimeout, cancellationToken);

        if (!completed)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_worker, worker))
                {
                    _worker = null;
                }
            }

            worker.Abandon();
            AbandonedWorkers++;
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

        worker?.Stop();
    }

    private VmProbeException Failed(VmProbeException error)
    {
        IsHealthy = false;
        var repeated = _failedErrorId == error.ErrorId;
        _failedErrorId = error.ErrorId;
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
        private LibvirtConnection? _connection;
        private volatile bool _abandoned;

        public Worker(string uri)
        {
            _uri = uri;
            var thread = new Thread(Loop) { IsBackground = true, Name = "vmprobe-libvirt" };
            thread.Start();
        }

        public ulong DaemonVersion { get; private set; }

        public void Post(WorkItem item) => _queue.Add(item);

        /// <summary>Stop taking work; the thread closes its connection and exits once the hung call returns.</summary>
        public void Abandon()
        {
            _abandoned = true;
            _queue.CompleteAdding();
        }

        public void Stop() => _queue.CompleteAdding();

        private void Loop()
        {
            try
            {
                foreach (var item in _queue.GetConsumingEnumerable())
                {
                    if (_abandoned)
                    {
                        item.Error = new ObjectDisposedException("abandoned libvirt worker");
                        item.Done.Set();
                        continue;
                    }

                    Execute(item);
                }
            }
            finally
            {
                _connection?.Dispose();
                _connection = null;
                _queue.Dispose();
            }
        }

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
