using System.Runtime.InteropServices;
using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Perf;

public class PerfEventAttrLayoutTests
{
    // Offsets from include/uapi/linux/perf_event.h (struct perf_event_attr, PERF_ATTR_SIZE_VER8).
    [Theory]
    [InlineData(nameof(PerfEventAttr.Type), 0)]
    [InlineData(nameof(PerfEventAttr.Size), 4)]
    [InlineData(nameof(PerfEventAttr.Config), 8)]
    [InlineData(nameof(PerfEventAttr.SamplePeriod), 16)]
    [InlineData(nameof(PerfEventAttr.SampleType), 24)]
    [InlineData(nameof(PerfEventAttr.ReadFormat), 32)]
    [InlineData(nameof(PerfEventAttr.Flags), 40)]
    [InlineData(nameof(PerfEventAttr.WakeupEvents), 48)]
    [InlineData(nameof(PerfEventAttr.BpType), 52)]
    [InlineData(nameof(PerfEventAttr.Config1), 56)]
    [InlineData(nameof(PerfEventAttr.Config2), 64)]
    [InlineData(nameof(PerfEventAttr.BranchSampleType), 72)]
    [InlineData(nameof(PerfEventAttr.SampleRegsUser), 80)]
    [InlineData(nameof(PerfEventAttr.SampleStackUser), 88)]
    [InlineData(nameof(PerfEventAttr.ClockId), 92)]
    [InlineData(nameof(PerfEventAttr.SampleRegsIntr), 96)]
    [InlineData(nameof(PerfEventAttr.AuxWatermark), 104)]
    [InlineData(nameof(PerfEventAttr.SampleMaxStack), 108)]
    [InlineData(nameof(PerfEventAttr.AuxSampleSize), 112)]
    [InlineData(nameof(PerfEventAttr.SigData), 120)]
    [InlineData(nameof(PerfEventAttr.Config3), 128)]
    public void FieldOffsetsMatchKernelHeader(string field, int offset)
    {
        Assert.Equal(offset, (int)Marshal.OffsetOf<PerfEventAttr>(field));
    }

    [Fact]
    public unsafe void SizeIsPerfAttrSizeVer8()
    {
        Assert.Equal(136, sizeof(PerfEventAttr));
        Assert.Equal(136, Marshal.SizeOf<PerfEventAttr>());
    }

    /// <summary>
    /// Each PERF_ATTR_SIZE_VERn of perf_event.h ends right after the field that version added: the kernel reads exactly
    /// attr.size bytes, so a field out of place would be cut or misread by kernels of that version.
    /// </summary>
    [Theory]
    [InlineData(64, nameof(PerfEventAttr.Config1), 8)] // VER0: first published struct
    [InlineData(72, nameof(PerfEventAttr.Config2), 8)] // VER1
    [InlineData(80, nameof(PerfEventAttr.BranchSampleType), 8)] // VER2
    [InlineData(96, nameof(PerfEventAttr.ClockId), 4)] // VER3: sample_regs_user, sample_stack_user (and clockid)
    [InlineData(104, nameof(PerfEventAttr.SampleRegsIntr), 8)] // VER4
    [InlineData(112, nameof(PerfEventAttr.Reserved2), 2)] // VER5: aux_watermark, sample_max_stack
    [InlineData(120, nameof(PerfEventAttr.Reserved3), 4)] // VER6: aux_sample_size
    [InlineData(128, nameof(PerfEventAttr.SigData), 8)] // VER7
    [InlineData(136, nameof(PerfEventAttr.Config3), 8)] // VER8
    public void PerfAttrSizeVersionsEndAfterTheirLastField(int sizeVer, string lastField, int fieldSize)
    {
        Assert.Equal(sizeVer, (int)Marshal.OffsetOf<PerfEventAttr>(lastField) + fieldSize);
    }

    /// <summary>Compiles a C program against the installed kernel header and compares every field it has, and the bit positions.</summary>
    [SkippableFact]
    public void LayoutMatchesInstalledHeaderCompiledWithGcc()
    {
        var gcc = Requirements.FindCommand("gcc");
        Skip.If(gcc is null, "gcc is not installed");
        Skip.IfNot(File.Exists("/usr/include/linux/perf_event.h"), "kernel headers (linux-libc-dev) are not installed");
        var dir = Directory.CreateTempSubdirectory("vmprobe-attr-");
        try
        {
            var source = Path.Combine(dir.FullName, "attr.c");
            File.WriteAllText(source, """
                #include <linux/perf_event.h>
                #include <stdio.h>
                #include <stddef.h>
                #include <string.h>
                #define P(f, n) printf("%s %zu\n", n, offsetof(struct perf_event_attr, f));
                static unsigned long long bits(struct perf_event_attr *a) { unsigned long long v; memcpy(&v, (char *)a + 40, 8); memset(a, 0, sizeof *a); return v; }
                int main(void) {
                  struct perf_event_attr a; memset(&a, 0, sizeof a);
                  P(type, "Type") P(size, "Size") P(config, "Config") P(sample_period, "SamplePeriod") P(sample_type, "SampleType")
                  P(read_format, "ReadFormat") P(wakeup_events, "WakeupEvents") P(bp_type, "BpType") P(config1, "Config1")
                  P(config2, "Config2") P(branch_sample_type, "BranchSampleType") P(sample_regs_user, "SampleRegsUser")
                  P(sample_stack_user, "SampleStackUser") P(clockid, "ClockId") P(sample_regs_intr, "SampleRegsIntr")
                  P(aux_watermark, "AuxWatermark") P(sample_max_stack, "SampleMaxStack") P(aux_sample_size, "AuxSampleSize") P(sig_data, "SigData")
                  printf("sizeof %zu\n", sizeof a);
                  a.disabled = 1; printf("bit:Disabled %llu\n", bits(&a));
                  a.inherit = 1; printf("bit:Inherit %llu\n", bits(&a));
                  a.exclude_user = 1; printf("bit:ExcludeUser %llu\n", bits(&a));
                  a.exclude_kernel = 1; printf("bit:ExcludeKernel %llu\n", bits(&a));
                  a.exclude_hv = 1; printf("bit:ExcludeHv %llu\n", bits(&a));
                  a.exclude_idle = 1; printf("bit:ExcludeIdle %llu\n", bits(&a));
                  a.exclude_host = 1; printf("bit:ExcludeHost %llu\n", bits(&a));
                  a.exclude_guest = 1; printf("bit:ExcludeGuest %llu\n", bits(&a));
                  a.sigtrap = 1; printf("bit:Sigtrap %llu\n", bits(&a));
                  return 0;
                }
                """);
            var exe = Path.Combine(dir.FullName, "attr");
            var build = Requirements.Run(gcc!, $"-o {exe} {source}");
            Assert.True(build.ExitCode == 0, build.Stderr);
            var run = Requirements.Run(exe, string.Empty);
            Assert.Equal(0, run.ExitCode);
            var checkedFields = 0;
            foreach (var line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                var value = ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                if (parts[0] == "sizeof")
                {
                    // The installed header may be older (VER7 = 128) or the same version; ours must be at least as large.
                    Assert.True(value <= 136 && value % 8 == 0, $"header sizeof {value}");
                }
                else if (parts[0].StartsWith("bit:", StringComparison.Ordinal))
                {
                    var constant = typeof(PerfAttrFlags).GetField(parts[0][4..])!.GetValue(null);
                    Assert.Equal(value, (ulong)constant!);
                }
                else
                {
                    Assert.Equal((int)value, (int)Marshal.OffsetOf<PerfEventAttr>(parts[0]));
                }

                checkedFields++;
            }

            Assert.Equal(29, checkedFields);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
