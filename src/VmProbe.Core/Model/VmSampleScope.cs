namespace VmProbe;

/// <summary>What a sample describes: the whole host, one domain, or one vCPU of a domain.</summary>
public enum VmSampleScope
{
    Host,
    Domain,
    Vcpu,
}
