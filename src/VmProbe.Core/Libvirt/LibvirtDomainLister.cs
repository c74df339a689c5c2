using System.Globalization;

namespace VmProbe.Libvirt;

/// <summary>
/// Domain discovery through libvirt: <see cref="VmDomain"/> objects with name, uuid, id, state, memory, URI and the
/// QEMU pid from <c>/run/libvirt/qemu/NAME.pid</c> when readable. Vcpus and CgroupPath are left for the procfs side.
/// </summary>
internal sealed class LibvirtDomainLister
{
    public const string DefaultPidDirectory = "/run/libvirt/qemu";

    private readonly LibvirtSession _session;
    private readonly string _pidDirectory;

    public LibvirtDomainLister(LibvirtSession session, string pidDirectory = DefaultPidDirectory)
    {
        _session = session;
        _pidDirectory = pidDirectory;
    }

    /// <summary>Domains of the session's URI; throws <see cref="LibvirtException"/> when libvirt fails.</summary>
    public IReadOnlyList<VmDomain> ListDomains(bool includeInactive = false, CancellationToken cancellationToken = default)
    {
        var infos = _session.Run("virConnectListAllDomains", c => c.ListDomains(includeInactive), cancellationToken);
        var domains = new List<VmDomain>(infos.Count);
        foreach (var info in infos)
        {
            domains.Add(new VmDomain
            {
                Name = info.Name,
                Uuid = info.Uuid,
                Id = info.Id,
                State = info.State,
                MemoryBytes = info.MemoryKiB * 1024,
                Uri = _session.Uri,
                Pid = info.Id >= 0 ? ReadPid(info.Name) : 0,
            });
        }

        return domains;
    }

    /// <summary>
    /// The pid libvirt wrote for a running QEMU domain (no trailing newline), or 0 when absent or unreadable.
    /// libvirt (9.0 at least) names the pid file after the XML-escaped domain name (<c>a"b</c> gives <c>a&amp;quot;b.pid</c>,
    /// with <c>&amp;amp; &amp;lt; &amp;gt; &amp;quot; &amp;apos;</c>) while the status file <c>NAME.xml</c> keeps the raw name: both
    /// spellings are tried, escaped first when they differ.
    /// </summary>
    public int ReadPid(string domainName)
    {
        // A name with a slash cannot be a file name here; never let it walk out of the directory.
        if (domainName.Contains('/') || domainName is "." or "..")
        {
            return 0;
        }

        var escaped = EscapeLikeLibvirt(domainName);
        if (escaped != domainName && ReadPidFile(escaped) is > 0 and var byEscaped)
        {
            return byEscaped;
        }

        return ReadPidFile(domainName);
    }

    /// <summary>libvirt's XML escaping of a name (virBufferEscapeString): &amp; &lt; &gt; " ' become entities.</summary>
    public static string EscapeLikeLibvirt(string name) =>
        name.IndexOfAny(new[] { '&', '<', '>', '"', '\'' }) < 0
            ? name
            : name.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
                .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal)
                .Replace("'", "&apos;", StringComparison.Ordinal);

    private int ReadPidFile(string fileName)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(_pidDirectory, fileName + ".pid"));
            return int.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
