namespace VmProbe.Tests.Procfs;

/// <summary>Fixture paths; the systemd-escaped cgroup tree is materialised in a temp dir (see the fixture README).</summary>
internal static class ProcfsFixtures
{
    private static readonly Lazy<string> KvmCgroupTree = new(() => CopyWithEscapes(Path.Combine(ProcfsParserTests.KvmHost, "sys", "fs", "cgroup")));

    /// <summary>The kvmhost v2 cgroup root with real <c>\x2d</c> names.</summary>
    public static string CgroupTree => KvmCgroupTree.Value;

    public const string WebScope = "machine-qemu\\x2d3\\x2dweb\\x2d01.scope";

    private static string CopyWithEscapes(string source)
    {
        var target = Path.Combine(Path.GetTempPath(), "vmprobe-procfs-" + Guid.NewGuid().ToString("N"));
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, dir).Replace("@x", "\\x", StringComparison.Ordinal)));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(target, Path.GetRelativePath(source, file).Replace("@x", "\\x", StringComparison.Ordinal));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(target, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return target;
    }
}
