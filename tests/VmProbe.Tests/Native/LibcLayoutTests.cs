using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmProbe.Native;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Native;

/// <summary>Every struct the engine passes to the kernel through libc, against the kernel and glibc headers (LP64).</summary>
public class LibcLayoutTests
{
    [Fact]
    public void StatxMatchesLinuxStatH()
    {
        // struct statx: __u32 stx_mask; __u32 stx_blksize; __u64 stx_attributes; __u32 stx_nlink, stx_uid, stx_gid;
        // __u16 stx_mode; __u64 stx_ino; __u64 stx_size; ... 256 bytes in all.
        Assert.Equal(256, Unsafe.SizeOf<Interop.Libc.Statx>());
        Assert.Equal(0, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Mask)));
        Assert.Equal(4, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.BlockSize)));
        Assert.Equal(8, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Attributes)));
        Assert.Equal(16, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.LinkCount)));
        Assert.Equal(20, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Uid)));
        Assert.Equal(24, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Gid)));
        Assert.Equal(28, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Mode)));
        Assert.Equal(32, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Ino)));
        Assert.Equal(40, Offset<Interop.Libc.Statx>(nameof(Interop.Libc.Statx.Size)));
    }

    [Fact]
    public void LinuxDirent64MatchesTheKernelRecord()
    {
        // struct linux_dirent64 { u64 d_ino; s64 d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; }
        Assert.Equal(0, Offset<Interop.Libc.LinuxDirent64>(nameof(Interop.Libc.LinuxDirent64.Ino)));
        Assert.Equal(8, Offset<Interop.Libc.LinuxDirent64>(nameof(Interop.Libc.LinuxDirent64.Offset)));
        Assert.Equal(16, Offset<Interop.Libc.LinuxDirent64>(nameof(Interop.Libc.LinuxDirent64.RecordLength)));
        Assert.Equal(Interop.Libc.LinuxDirent64.RecordLengthOffset, Offset<Interop.Libc.LinuxDirent64>(nameof(Interop.Libc.LinuxDirent64.RecordLength)));
        Assert.Equal(18, Offset<Interop.Libc.LinuxDirent64>(nameof(Interop.Libc.LinuxDirent64.Type)));
        Assert.Equal(19, Interop.Libc.LinuxDirent64.NameOffset);
        Assert.Equal(24, Unsafe.SizeOf<Interop.Libc.LinuxDirent64>()); // sizeof with d_name[] (padding to 8)
    }

    [Fact]
    public void RLimitAndTimeSpecMatchLp64()
    {
        Assert.Equal(16, Unsafe.SizeOf<Interop.Libc.RLimit>());
        Assert.Equal(8, Offset<Interop.Libc.RLimit>(nameof(Interop.Libc.RLimit.Maximum)));
        Assert.Equal(16, Unsafe.SizeOf<Interop.Libc.TimeSpec>());
        Assert.Equal(8, Offset<Interop.Libc.TimeSpec>(nameof(Interop.Libc.TimeSpec.Nanoseconds)));
    }

    [Fact]
    public void PerfGroupReadFormatMatchesPerfEventOpenManual()
    {
        // PERF_FORMAT_GROUP|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING|ID: { u64 nr; u64 time_enabled; u64 time_running; { u64 value; u64 id; } values[nr]; }
        Assert.Equal(24, Unsafe.SizeOf<PerfGroupReadHeader>());
        Assert.Equal(8, Offset<PerfGroupReadHeader>(nameof(PerfGroupReadHeader.TimeEnabled)));
        Assert.Equal(16, Offset<PerfGroupReadHeader>(nameof(PerfGroupReadHeader.TimeRunning)));
        Assert.Equal(16, Unsafe.SizeOf<PerfGroupReadValue>());
        Assert.Equal(8, Offset<PerfGroupReadValue>(nameof(PerfGroupReadValue.Id)));
    }

    /// <summary>Compiles a C program against the installed headers and compares sizes and offsets.</summary>
    [SkippableFact]
    public void LayoutsMatchInstalledHeadersCompiledWithGcc()
    {
        var gcc = Requirements.FindCommand("gcc");
        Skip.If(gcc is null, "gcc is not installed");
        Skip.IfNot(File.Exists("/usr/include/linux/stat.h"), "kernel headers (linux-libc-dev) are not installed");
        var dir = Directory.CreateTempSubdirectory("vmprobe-layout-");
        try
        {
            var source = Path.Combine(dir.FullName, "layout.c");
            File.WriteAllText(source, """
                #define _GNU_SOURCE
                #include <dirent.h>
                #include <linux/stat.h>
                #include <stddef.h>
                #include <stdio.h>
                #include <sys/resource.h>
                #include <time.h>
                #define O(t, f, n) printf("%s %zu\n", n, offsetof(t, f));
                int main(void) {
                  printf("statx.size %zu\n", sizeof(struct statx));
                  O(struct statx, stx_mask, "statx.Mask") O(struct statx, stx_blksize, "statx.BlockSize")
                  O(struct statx, stx_attributes, "statx.Attributes") O(struct statx, stx_nlink, "statx.LinkCount")
                  O(struct statx, stx_uid, "statx.Uid") O(struct statx, stx_gid, "statx.Gid") O(struct statx, stx_mode, "statx.Mode")
                  O(struct statx, stx_ino, "statx.Ino") O(struct statx, stx_size, "statx.Size")
                  O(struct dirent64, d_ino, "dirent.Ino") O(struct dirent64, d_off, "dirent.Offset")
                  O(struct dirent64, d_reclen, "dirent.RecordLength") O(struct dirent64, d_type, "dirent.Type")
                  printf("dirent.name %zu\n", offsetof(struct dirent64, d_name));
                  printf("rlimit.size %zu\n", sizeof(struct rlimit)); O(struct rlimit, rlim_max, "rlimit.Maximum")
                  printf("timespec.size %zu\n", sizeof(struct timespec)); O(struct timespec, tv_nsec, "timespec.Nanoseconds")
                  return 0;
                }
                """);
            var exe = Path.Combine(dir.FullName, "layout");
            var build = Requirements.Run(gcc!, $"-o {exe} {source}");
            Assert.True(build.ExitCode == 0, build.Stderr);
            var run = Requirements.Run(exe, string.Empty);
            Assert.Equal(0, run.ExitCode);
            var expected = new Dictionary<string, int>
            {
                ["statx.size"] = Unsafe.SizeOf<Interop.Libc.Statx>(),
                ["dirent.name"] = Interop.Libc.LinuxDirent64.NameOffset,
                ["rlimit.size"] = Unsafe.SizeOf<Interop.Libc.RLimit>(),
                ["timespec.size"] = Unsafe.SizeOf<Interop.Libc.TimeSpec>(),
            };
            var types = new Dictionary<string, Type>
            {
                ["statx"] = typeof(Interop.Libc.Statx),
                ["dirent"] = typeof(Interop.Libc.LinuxDirent64),
                ["rlimit"] = typeof(Interop.Libc.RLimit),
                ["timespec"] = typeof(Interop.Libc.TimeSpec),
            };
            var checkedLines = 0;
            foreach (var line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                var value = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                var ours = expected.TryGetValue(parts[0], out var known)
                    ? known
                    : (int)Marshal.OffsetOf(types[parts[0].Split('.')[0]], parts[0].Split('.')[1]);
                Assert.True(value == ours, $"{parts[0]}: header {value}, ours {ours}");
                checkedLines++;
            }

            Assert.Equal(19, checkedLines);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
