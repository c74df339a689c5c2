using System.Globalization;
using System.Xml;
using VmProbe.Procfs;

namespace VmProbe.Libvirt;

/// <summary>
/// The parts VmProbe uses of the status file libvirt's QEMU driver keeps for a running domain,
/// <c>/run/libvirt/qemu/NAME.xml</c> (root only): <c>&lt;domstatus pid='QEMU'&gt;</c> and its
/// <c>&lt;vcpus&gt;&lt;vcpu id='N' pid='TID'/&gt;</c> list, libvirt's own record of which thread runs which vCPU.
/// It cross-checks the thread names (<c>CPU N/KVM</c>) and stands in for them when QEMU runs without debug-threads=on.
/// </summary>
internal sealed class DomainStatusXml
{
    /// <summary>Status files are ~10 KiB (most of it QEMU capability flags); anything far larger is not one.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Settings for libvirt's XML, which VmProbe does not trust: no DTD, no resolver, bounded; also used by <see cref="DomainNetXml"/>.</summary>
    internal static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,
        IgnoreProcessingInstructions = true,
        MaxCharactersInDocument = MaxBytes,
        CloseInput = false,
    };

    private DomainStatusXml(int pid, IReadOnlyList<VmVcpu> vcpus)
    {
        Pid = pid;
        Vcpus = vcpus;
    }

    /// <summary>The QEMU pid libvirt recorded (<c>domstatus/@pid</c>); 0 when absent.</summary>
    public int Pid { get; }

    /// <summary>vCPU threads in index order; vCPUs without a thread (offline) are left out.</summary>
    public IReadOnlyList<VmVcpu> Vcpus { get; }

    /// <summary>The status file of <paramref name="domainName"/> in <paramref name="directory"/>: <c>NAME.xml</c>.</summary>
    public static string PathFor(string directory, string domainName) => Path.Combine(directory, domainName + ".xml");

    /// <summary>
    /// Reads <paramref name="path"/>; null when it does not exist or cannot be read (not root, domain gone).
    /// Throws <see cref="ProcfsException"/> when it is too large or not a status file.
    /// </summary>
    public static DomainStatusXml? TryRead(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 16 * 1024);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }

        using (stream)
        {
            if (stream.Length > MaxBytes)
            {
                throw ProcfsException.Parse(path, $"{stream.Length} bytes is more than a libvirt status file's {MaxBytes}");
            }

            return Parse(stream, path);
        }
    }

    /// <summary>Parses a status document; <paramref name="path"/> names it in errors.</summary>
    public static DomainStatusXml Parse(Stream content, string path)
    {
        try
        {
            using var reader = XmlReader.Create(content, Settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "domstatus")
            {
                throw ProcfsException.Parse(path, $"root element is <{reader.LocalName}>, not <domstatus>");
            }

            var pid = ReadInt(reader, "pid", path, "domstatus") ?? 0;
            var vcpus = new List<VmVcpu>();
            if (reader.IsEmptyElement)
            {
                return new DomainStatusXml(pid, vcpus);
            }

            reader.Read();
            while (reader.NodeType != XmlNodeType.EndElement && !reader.EOF)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "vcpus")
                {
                    ReadVcpus(reader, path, vcpus);

                    // Everything after <vcpus> (capabilities, the domain definition) is not needed.
                    break;
                }

                reader.Skip();
            }

            vcpus.Sort((a, b) => a.Index.CompareTo(b.Index));
            return new DomainStatusXml(pid, vcpus);
        }
        catch (XmlException ex)
        {
            throw ProcfsException.Parse(path, $"not well-formed XML at line {ex.LineNumber}: {ex.Message}");
        }
    }

    private static void ReadVcpus(XmlReader reader, string path, List<VmVcpu> vcpus)
    {
        if (reader.IsEmptyElement)
        {
            return;
        }

        var depth = reader.Depth;
        while (reader.Read() && reader.Depth > depth)
        {
            if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "vcpu")
            {
                continue;
            }

            var id = ReadInt(reader, "id", path, "vcpu") ?? throw ProcfsException.Parse(path, "<vcpu> without id");
            if (ReadInt(reader, "pid", path, "vcpu") is { } tid and > 0)
            {
                vcpus.Add(new VmVcpu(id, tid));
            }
        }
    }

    private static int? ReadInt(XmlReader reader, string attribute, string path, string element)
    {
        var text = reader.GetAttribute(attribute);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw ProcfsException.Parse(path, $"<{element} {attribute}='{text}'> is not a non-negative integer");
        }

        return value;
    }
}
