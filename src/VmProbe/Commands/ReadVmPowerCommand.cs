using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// Read-VmPower: each domain's energy per zone (package, cores, dram...) and its watts, by the runner's power model
/// (share of host cycles or CPU time above idle power), read for all the domains of the pipeline at once. The module's
/// first reading primes the counters and waits -SampleInterval, so that even one reading has watts.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "VmPower")]
[OutputType(typeof(VmPowerSample))]
public sealed class ReadVmPowerCommand : DomainReaderCommand
{
    protected override void ReadDomains(IReadOnlyList<VmDomain> domains)
    {
        try
        {
            var reader = ModuleState.Current.PowerReader;
            if (!reader.HasReading)
            {
                reader.Read(domains, DateTimeOffset.Now, new List<VmProbeException>(), Log);
                if (!Sampler.Wait(TimeSpan.FromSeconds(SampleInterval)))
                {
                    return;
                }
            }

            var warned = false;
            Sample(errors =>
            {
                var samples = reader.Read(domains, DateTimeOffset.Now, errors, Log);
                if (!warned && samples.Count == 0 && reader.Lacking is { } lacking)
                {
                    WriteWarning($"Read-VmPower: {lacking}; no power to attribute"); // once per call, not per -Continuous sample
                    warned = true;
                }

                return samples;
            });
        }
        catch (VmProbeException ex)
        {
            ThrowProbeError(ex, null);
        }
    }
}
