namespace VmProbe;

/// <summary>
/// A discovery that can fail in part and still return domains (auto discovery falls back to the /proc scan when libvirt
/// fails): the cycle counts the failure in <c>probe_errors_total</c> under the discovery's name and logs it like any.
/// </summary>
internal interface IPartlyFailing
{
    /// <summary>The failure of the last <see cref="IDomainDiscovery.Discover"/>, once; null when it did not fail.</summary>
    Exception? TakeFailure();
}
