using System.Globalization;
using System.Text.RegularExpressions;
using VmProbe.Kvm.Exits;
using VmProbe.Perf;
using Xunit;

namespace VmProbe.Tests.Kvm.Exits;

/// <summary>
/// The reason tables against the kernel's own: the <c>print fmt</c> of the kvm_exit and kvm_userspace_exit tracepoints
/// expands VMX_EXIT_REASONS, SVM_EXIT_REASONS and KVM_EXIT_* into { number, "name" } pairs. Checked on the copies in
/// Fixtures/Kvm (kernel 6.18) and on this host's tracefs when it has the kvm tracepoints.
/// </summary>
public class KvmExitReasonsTests
{
    private static readonly Regex Pair = new(@"\{ (?<n>[-0-9a-fx+ ]+?), (?<name>(?:""[^""]*"" ?)+) \}", RegexOptions.CultureInvariant);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Kvm", name);

    /// <summary>The pairs of the __print_symbolic that starts at <paramref name="marker"/>.</summary>
    internal static List<(uint Number, string Name)> Pairs(string format, string marker)
    {
        var start = format.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{marker}' not in the format");
        var end = format.IndexOf("})", start, StringComparison.Ordinal);
        var pairs = new List<(uint, string)>();
        foreach (Match m in Pair.Matches(format[start..(end + 2)]))
        {
            uint number = 0;
            foreach (var term in m.Groups["n"].Value.Split('+', StringSplitOptions.TrimEntries))
            {
                number += term.StartsWith("0x", StringComparison.Ordinal) ? uint.Parse(term[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : unchecked((uint)int.Parse(term, CultureInfo.InvariantCulture));
            }

            pairs.Add((number, string.Concat(Regex.Matches(m.Groups["name"].Value, @"""([^""]*)""").Select(q => q.Groups[1].Value))));
        }

        return pairs;
    }

    public static TheoryData<string> Formats()
    {
        var data = new TheoryData<string> { Fixture("kvm_exit.format") };
        if (TracepointResolver.FindTracefs() is { } root && File.Exists(Path.Combine(root, "events/kvm/kvm_exit/format")))
        {
            data.Add(Path.Combine(root, "events/kvm/kvm_exit/format"));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void VmxAndSvmNamesAreTheTracepointsNames(string formatFile)
    {
        var format = File.ReadAllText(formatFile);
        var vmx = Pairs(format, "__print_symbolic(REC->exit_reason & 0xffff,");
        var svm = Pairs(format, "__print_symbolic(REC->exit_reason,");
        Assert.True(vmx.Count > 60 && svm.Count > 90, $"{vmx.Count} VMX and {svm.Count} SVM pairs parsed");
        Assert.All(vmx, p => Assert.Equal(p.Name, KvmExitReasons.Name(KvmExitIsa.Vmx, p.Number)));
        Assert.All(svm, p => Assert.Equal(p.Name, KvmExitReasons.Name(KvmExitIsa.Svm, p.Number)));
        Assert.Contains((0xffffffffu, "invalid_guest_state"), svm); // SVM_EXIT_ERR, -1 in the format
    }

    [Fact]
    public void UserspaceNamesAreKvmExitNames()
    {
        var pairs = Pairs(File.ReadAllText(Fixture("kvm_userspace_exit.format")), "__print_symbolic(REC->reason,");
        Assert.True(pairs.Count >= 30);
        Assert.All(pairs, p => Assert.Equal(p.Name, "KVM_EXIT_" + KvmExitReasons.UserspaceName(p.Number)));
        Assert.Equal("MEMORY_FAULT", KvmExitReasons.UserspaceName(39)); // newer than the trace table: from kvm.h
    }

    [Theory]
    [InlineData(KvmExitIsa.Vmx, 99u, "0x63")]
    [InlineData(KvmExitIsa.Vmx, 0x80000021u, "INVALID_STATE FAILED_VMENTRY")]
    [InlineData(KvmExitIsa.Vmx, 0x80000063u, "0x63 FAILED_VMENTRY")]
    [InlineData(KvmExitIsa.Svm, 0x12345u, "0x12345")]
    [InlineData(KvmExitIsa.Svm, 0x4eu, "PF excp")]
    [InlineData(KvmExitIsa.Unknown, 48u, "0x30")]
    public void UnknownNumbersStayNumbers(KvmExitIsa isa, uint reason, string expected) =>
        Assert.Equal(expected, KvmExitReasons.Name(isa, reason));

    [Fact]
    public void NamesAndNumbersParse()
    {
        Assert.True(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "EPT_VIOLATION", out var ept) && ept == 48);
        Assert.True(KvmExitReasons.TryParse(KvmExitIsa.Svm, "npf", out var npf) && npf == 0x400);
        Assert.True(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "0x30", out var hex) && hex == 48);
        Assert.True(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "12", out var hlt) && hlt == 12);
        Assert.False(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "npf", out _)); // an SVM name is not a VMX one
        Assert.False(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "ept_violation", out _)); // as printed: case matters
        Assert.False(KvmExitReasons.TryParse(KvmExitIsa.Vmx, "-1", out _));
        foreach (var isa in new[] { KvmExitIsa.Vmx, KvmExitIsa.Svm })
        {
            Assert.All(KvmExitReasons.Table(isa), e => Assert.True(KvmExitReasons.TryParse(isa, e.Value, out var n) && n == e.Key, e.Value));
        }
    }

    [Theory]
    [InlineData("vendor_id\t: GenuineIntel\nflags\t\t: fpu vme vmx ept\n", KvmExitIsa.Vmx)]
    [InlineData("vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm npt\n", KvmExitIsa.Svm)]
    [InlineData("flags\t\t: fpu sse2\n", KvmExitIsa.Unknown)]
    public void HostIsaFromCpuinfoFlags(string cpuinfo, KvmExitIsa expected)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, cpuinfo);
            Assert.Equal(expected, KvmExitReasons.HostIsa(path));
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Equal(KvmExitIsa.Unknown, KvmExitReasons.HostIsa("/nonexistent/cpuinfo"));
    }
}
