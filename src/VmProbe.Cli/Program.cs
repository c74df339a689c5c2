using System.Runtime.InteropServices;

namespace VmProbe.Cli;

/// <summary>
/// Entry point of <c>vmprobe</c>: SIGINT and SIGTERM request a stop (the cycle in progress is finished and written,
/// then the process exits 0); everything else is in <see cref="ProbeRunner"/>.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // Keep the runtime from terminating the process: the loop returns once the current cycle is written.
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var stderr = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
        return ProbeRunner.Run(args, DefaultWiring.Create(), Console.Out, stderr, stop.Token);
    }
}
