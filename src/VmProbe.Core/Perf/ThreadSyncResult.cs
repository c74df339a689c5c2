namespace VmProbe.Perf;

/// <summary>What one <see cref="ThreadPerfSession.Sync"/> did.</summary>
/// <param name="Opened">Threads newly counted.</param>
/// <param name="Retired">Threads no longer listed: closed, their last counts kept in the retired total.</param>
/// <param name="Vanished">New threads that were gone before they could be opened (ESRCH).</param>
internal readonly record struct ThreadSyncResult(int Opened, int Retired, int Vanished);
