using System.Text;
using VmProbe.Prometheus;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Prometheus;

/// <summary>Our output checked by the real <c>promtool check metrics</c>.</summary>
public class PromtoolTests
{
    private static string Render(MetricSet set) => Encoding.UTF8.GetString(new PromTextWriter().Render(set, out _).Span);

    [SkippableFact]
    public void RealisticOutputPassesPromtoolWithoutLint()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);

        var (exitCode, output) = Promtool.Check(Render(SampleMetrics.Realistic(domains: 5, vcpus: 4)));

        Assert.Equal(string.Empty, output);
        Assert.Equal(0, exitCode);
    }

    [SkippableFact]
    public void SpecialValuesAndSanitizedNamesPassPromtool()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);
        var set = new MetricSet();
        var ratio = set.Family("vm.steal-ratio", MetricType.Gauge, "Steal ratio.\nSecond line \\ backslash.", "domain-name", "cpu:id");
        ratio.Add(double.NaN, "a", "0");
        ratio.Add(double.PositiveInfinity, "b\"\n\\", "1");
        ratio.Add(double.NegativeInfinity, "ç", "2");
        ratio.Add(1e-300, "d", "3");

        var (exitCode, output) = Promtool.Check(Render(set));

        Assert.Equal(string.Empty, output);
        Assert.Equal(0, exitCode);
    }

    [SkippableFact]
    public void NegativeControlPromtoolRejectsBrokenAndLintyText()
    {
        Skip.IfNot(Promtool.IsAvailable, Promtool.UnavailableReason);

        var broken = Promtool.Check("# TYPE x gauge\nx{a=\"unterminated} 1\n");
        var linty = Promtool.Check("# HELP x_bytes h\n# TYPE x_bytes counter\nx_bytes 1\n");

        Assert.Equal(1, broken.ExitCode);
        Assert.Equal(3, linty.ExitCode);
        Assert.Contains("_total", linty.Output, StringComparison.Ordinal);
    }
}
