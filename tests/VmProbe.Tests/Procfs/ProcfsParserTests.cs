using System.Text;
using VmProbe.Procfs;
using Xunit;

namespace VmProbe.Tests.Procfs;

public class ProcfsParserTests
{
    internal static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Procfs");
    internal static readonly string KvmHost = Path.Combine(Fixtures, "kvmhost");
    internal static readonly string Local = Path.Combine(Fixtures, "local");

    [Fact]
    public void Stat_KvmHost_HasGuestTimesInSeconds()
    {
        using var proc = new ProcFs(KvmHost);
        var stat = proc.ReadStat(includePerCpu: true)!;
        var hz = ProcFs.ClockTicksPerSecond;
        Assert.Equal(4705356 / hz, stat.Total.User, 9);
        Assert.Equal(3561420 / hz, stat.Total.Guest, 9);
        Assert.Equal(1188 / hz, stat.Total.GuestNice, 9);
        Assert.Equal(4, stat.PerCpu.Count);
        Assert.Equal(3, stat.PerCpu[3].Cpu);
        Assert.Equal(2417336021UL, stat.ContextSwitches);
        Assert.Equal(1872213UL, stat.ProcessesCreated);
        Assert.Equal(3UL, stat.ProcsRunning);
        Assert.Equal(1UL, stat.ProcsBlocked);
    }

    [Fact]
    public void Stat_LocalCapture_Parses()
    {
        using var proc = new ProcFs(Local);
        var stat = proc.ReadStat()!;
        Assert.Equal(9719 / ProcFs.ClockTicksPerSecond, stat.Total.User, 9);
        Assert.Equal(632174UL, stat.ContextSwitches);
    }

    [Fact]
    public void Stat_ShortCpuLine_ThrowsNamingFile()
    {
        var ex = Assert.Throws<ProcfsException>(() => HostProcStat.Parse("cpu 1 2\n"u8, "/x/stat", 100));
        Assert.Equal("/x/stat", ex.FilePath);
        Assert.Equal("procfs_parse,InvalidData", ex.ErrorId);
        Assert.Contains("cpu", ex.Message);
    }

    [Fact]
    public void HostSchedStat_SumsLastThreeFieldsOfCpuLines()
    {
        using var proc = new ProcFs(KvmHost);
        var s = proc.ReadHostSchedStat()!.Value;
        Assert.Equal(12004352613380UL + 11987441022107 + 11975502887419 + 11981117770031, s.RunNanoseconds);
        Assert.Equal(1803337113045UL + 1798850110261 + 1801203477218 + 1799012554420, s.WaitNanoseconds);
        Assert.Equal(420391732UL + 419847511 + 418972260 + 419201988, s.Timeslices);
    }

    [Fact]
    public void HostSchedStat_MissingFile_IsNull()
    {
        using var proc = new ProcFs(Local);
        Assert.Null(proc.ReadHostSchedStat());
    }

    [Fact]
    public void HostSchedStat_OldVersion_Throws()
    {
        Assert.Throws<ProcfsException>(() => SchedStat.ParseHost("version 14\ncpu0 1 2 3\n"u8, "s", out _));
    }

    [Fact]
    public void MemInfo_KbToBytes_AndCountsKept()
    {
        using var proc = new ProcFs(KvmHost);
        var mem = proc.ReadMemInfo()!;
        Assert.Equal(263846496UL * 1024, mem["MemTotal"]);
        Assert.Equal(8120320UL * 1024, mem["SwapFree"]);
        Assert.Equal(0UL, mem["HugePages_Total"]);
        Assert.Null(mem["NoSuchField"]);
    }

    [Fact]
    public void ANumberThatIsNotOneNamesItsFileAndField()
    {
        var stat = Assert.Throws<ProcfsException>(() => HostProcStat.Parse("cpu 1 2 x3 4\n"u8, "/x/stat", 100));
        Assert.Contains("/x/stat", stat.Message, StringComparison.Ordinal);
        Assert.Contains("field 'cpu system' is 'x3'", stat.Message, StringComparison.Ordinal);

        var mem = Assert.Throws<ProcfsException>(() => MemInfo.Parse("MemTotal: 10 kB\nMemFree: -5 kB\n"u8, "/x/meminfo"));
        Assert.Contains("/x/meminfo", mem.Message, StringComparison.Ordinal);
        Assert.Contains("field 'MemFree' is '-5'", mem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAverage_Parses()
    {
        using var proc = new ProcFs(KvmHost);
        var l = proc.ReadLoadAverage()!.Value;
        Assert.Equal(new LoadAverage(11.52, 10.87, 10.33, 6, 1311, 3790112), l);
    }

    [Fact]
    public void Pressure_CpuWithoutFull_AndIoWithFull()
    {
        using var proc = new ProcFs(KvmHost);
        var cpu = proc.ReadPressure("cpu")!;
        Assert.Equal(88234.201772, cpu.SomeSeconds, 6);
        Assert.Null(cpu.FullSeconds);
        var io = proc.ReadPressure("io")!;
        Assert.Equal(300.101223, io.FullSeconds!.Value, 6);
    }

    [Fact]
    public void TaskStat_CommWithSpacesAndParentheses_SplitsAfterLastParen()
    {
        var line = Encoding.ASCII.GetBytes("77 (CPU 0/TCG) x) b) R 1 76 76 0 -1 4194560 20 0 5 0 70 6 0 0 20 0 3 0 9002 1 1 1 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 44 0");
        var stat = TaskStat.Parse(line, "t", out var comm);
        Assert.Equal("CPU 0/TCG) x) b", Encoding.ASCII.GetString(comm));
        Assert.Equal('R', stat.State);
        Assert.Equal(20UL, stat.MinorFaults);
        Assert.Equal(5UL, stat.MajorFaults);
        Assert.Equal(70UL, stat.UserTicks);
        Assert.Equal(6UL, stat.SystemTicks);
        Assert.Equal(3, stat.NumThreads);
        Assert.Equal(9002UL, stat.StartTimeTicks);
        Assert.Equal(1, stat.LastCpu);
        Assert.Equal(44UL, stat.GuestTicks);
        Assert.False(stat.IsRealTime);

        // Field 40 rt_priority, 41 policy: SCHED_FIFO (1) and SCHED_RR (2) are real-time, SCHED_BATCH (3) is not.
        foreach (var (policy, realTime) in new[] { (1, true), (2, true), (3, false) })
        {
            var rt = TaskStat.Parse(Encoding.ASCII.GetBytes($"77 (CPU 0/KVM) S 1 76 76 0 -1 4194560 20 0 5 0 70 6 0 0 20 0 3 0 9002 1 1 1 1 1 0 0 0 0 0 0 0 0 0 0 17 1 50 {policy} 0 44 0"), "t");
            Assert.Equal(policy, rt.Policy);
            Assert.Equal(realTime, rt.IsRealTime);
            Assert.Equal(1, rt.LastCpu);
        }
    }

    [Fact]
    public void TaskName_FromStat_IsTheCommFilesText_WithTheLastCpuUnlessRealTime()
    {
        using var proc = new ProcFs(KvmHost);
        Assert.Equal("CPU 0/KVM", proc.ReadTaskName(4242, 4251, out var cpu));
        Assert.Equal(2, cpu); // field 39 of the fixture's stat
        Assert.Equal(proc.ReadTaskComm(4242, 4251), proc.ReadTaskName(4242, 4251, out _));
        Assert.Null(proc.ReadTaskName(4242, 99999, out cpu));
        Assert.Equal(-1, cpu);

        var root = Directory.CreateTempSubdirectory("vmprobe-rt").FullName;
        try
        {
            var task = Directory.CreateDirectory(Path.Combine(root, "proc", "7", "task", "8")).FullName;
            File.WriteAllText(Path.Combine(task, "stat"), "8 (CPU 0/KVM) S 1 76 76 0 -1 4194560 20 0 5 0 70 6 0 0 20 0 3 0 9002 1 1 1 1 1 0 0 0 0 0 0 0 0 0 0 17 1 50 1 0 44 0\n");
            using var fixture = new ProcFs(root);
            Assert.Equal("CPU 0/KVM", fixture.ReadTaskName(7, 8, out cpu));
            Assert.Equal(-1, cpu); // SCHED_FIFO: no hint, a probe pinned behind it might never run
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TaskFiles_FromKvmFixture()
    {
        using var proc = new ProcFs(KvmHost);
        Assert.True(proc.TryReadTaskSchedStat(4242, 4251, out var sched));
        Assert.Equal(new SchedStat(930112000000, 21200000000, 4401223), sched);
        Assert.True(proc.TryReadTaskStat(4242, 4251, out var stat));
        Assert.Equal(35120UL, stat.GuestTicks);
        Assert.Equal("CPU 0/KVM", proc.ReadTaskComm(4242, 4251));
        var status = proc.ReadStatus(4242)!;
        Assert.Equal(new ProcessStatus("qemu-kvm", 5, 8523412UL * 1024, 118230, 2201), status);
        var threads = new List<int>();
        Assert.True(proc.TryListThreads(4242, threads));
        Assert.Equal(new[] { 4242, 4250, 4251, 4252, 4260 }, threads.Order());
    }

    [Fact]
    public void VanishedProcessAndThread_ReturnFalseOrNull()
    {
        using var proc = new ProcFs(KvmHost);
        Assert.False(proc.TryReadTaskSchedStat(4242, 99999, out _));
        Assert.False(proc.TryReadTaskStat(99999, 1, out _));
        Assert.Null(proc.ReadStatus(99999));
        Assert.Null(proc.ReadCgroups(99999));
        Assert.Null(proc.ReadCmdline(99999));
        Assert.False(proc.TryListThreads(99999, new List<int>()));
    }

    [Fact]
    public void Cgroups_V1AndV2Lines()
    {
        using var proc = new ProcFs(KvmHost);
        var cg = proc.ReadCgroups(5353)!;
        Assert.Equal("/machine/qemu-2-db.libvirt-qemu/emulator", cg.UnifiedPath);
        Assert.Equal("/machine/qemu-2-db.libvirt-qemu/emulator", cg.V1Path("cpuacct"));
        Assert.Equal("/", cg.V1Path("memory"));
        Assert.Null(cg.V1Path("hugetlb"));
    }

    [Fact]
    public void Cmdline_NulSeparated()
    {
        using var proc = new ProcFs(KvmHost);
        var argv = proc.ReadCmdline(5353)!;
        Assert.Equal("/usr/bin/qemu-system-x86_64", argv[0]);
        Assert.Equal("guest=db.prod \"eu\",,main,debug-threads=on", argv[2]);
        Assert.Equal(7, argv.Length);
    }

    [Fact]
    public void LiveProc_SelfFilesParse()
    {
        using var proc = new ProcFs();
        var pid = Environment.ProcessId;
        Assert.NotNull(proc.ReadStat());
        Assert.True(proc.ReadMemInfo()!["MemTotal"] > 0);
        Assert.True(proc.TryReadTaskStat(pid, pid, out var stat));
        Assert.True(stat.NumThreads >= 1);
        Assert.True(proc.TryReadTaskSchedStat(pid, pid, out var sched));
        Assert.True(sched.RunNanoseconds > 0);
        Assert.True(proc.ReadStatus(pid)!.Threads >= 1);
        Assert.Contains(proc.ListProcesses(), p => p == pid);
    }

    [Fact]
    public void Reader_PermissionErrorIsTyped_NotFalse()
    {
        using var reader = new ProcFileReader();
        // A directory cannot be read(): EISDIR is an error, not "missing".
        var ex = Assert.Throws<ProcfsException>(() => reader.TryRead("/proc/self"));
        Assert.Equal("procfs_read,EISDIR", ex.ErrorId);
        Assert.Equal("/proc/self", ex.FilePath);
        Assert.False(reader.TryRead("/proc/self/no-such-file"));
    }

    [Theory]
    [InlineData("/proc/self/status")] // about 1.5 KB: longer than the reader's first buffer
    [InlineData("/proc/self/stat")]
    [InlineData("/proc/self/comm")]
    public void Reader_AOneRecordFileEndsAtAShortReadWithAllOfItAsAFullReadHasIt(string path)
    {
        using var oneRead = new ProcFileReader(initialCapacity: 256);
        using var untilEmpty = new ProcFileReader(initialCapacity: 256);

        Assert.True(oneRead.TryRead(path, oneRecord: true));
        Assert.True(untilEmpty.TryRead(path));

        // Values move between the two reads (times, page counts); each line's key and number of fields do not.
        var a = System.Text.Encoding.UTF8.GetString(oneRead.Content);
        var b = System.Text.Encoding.UTF8.GetString(untilEmpty.Content);
        Assert.EndsWith("\n", a);
        Assert.Equal(Shape(b), Shape(a));

        static string Shape(string text) => string.Join("|", text.Split('\n').Select(line =>
            line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) is var fields && fields.Length > 0 ? $"{fields[0]}/{fields.Length}" : ""));
    }

    [Fact]
    public async Task Reader_AOneRecordReadEndsAtTheShortReadWithoutAskingForMore()
    {
        // A pipe whose writer stays open: a read past what was written would wait for more, where a one-record read must
        // have stopped. The writer is closed only after the verdict, which ends a read still waiting.
        using var writer = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var readEnd = writer.ClientSafePipeHandle;
        writer.Write("CPU 0/KVM\n"u8);
        writer.Flush();
        using var reader = new ProcFileReader();
        var read = Task.Run(() => reader.TryRead($"/proc/self/fd/{readEnd.DangerousGetHandle()}", oneRecord: true));

        var ended = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read;
        writer.Dispose();
        Assert.True(ended, "the one-record read asked for more after a short read");
        Assert.True(await read);
        Assert.Equal("CPU 0/KVM\n", System.Text.Encoding.UTF8.GetString(reader.Content));
    }
}
