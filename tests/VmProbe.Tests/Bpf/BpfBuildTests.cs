using VmProbe.Bpf;
using VmProbe.Tests.Infrastructure;
using Xunit;

namespace VmProbe.Tests.Bpf;

/// <summary>The committed BPF objects are what their sources build to (bpf2go practice), and what the assembly embeds.</summary>
public class BpfBuildTests
{
    private static readonly string[] Objects = { "kvm_exits", "selftest", "tasks" };

    private static string Committed(string name) => RepoPaths.File($"src/VmProbe.Core/Bpf/programs/{name}.bpf.o");

    [SkippableFact]
    public void RebuildingFromSourceGivesTheCommittedBytes()
    {
        Skip.If(Requirements.FindCommand("clang-14") is null, "clang-14 is not installed (apt-get install clang-14): cannot rebuild the BPF objects");
        Skip.If(Requirements.FindCommand("llvm-strip-14") is null, "llvm-strip-14 is not installed (apt-get install llvm-14)");
        var outDir = Directory.CreateTempSubdirectory("vmprobe-bpf-build-").FullName;
        try
        {
            var (code, stdout, stderr) = Requirements.Run("bash", $"{RepoPaths.File("scripts/build-bpf.sh")} {outDir}", timeoutMs: 120_000);
            Assert.True(code == 0, $"build-bpf.sh failed ({code}): {stdout}{stderr}");
            foreach (var name in Objects)
            {
                var rebuilt = File.ReadAllBytes(Path.Combine(outDir, $"{name}.bpf.o"));
                Assert.True(rebuilt.AsSpan().SequenceEqual(File.ReadAllBytes(Committed(name))),
                    $"{name}.bpf.o rebuilt from source differs from the committed object: run scripts/build-bpf.sh and commit");
            }
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public void TheAssemblyEmbedsTheCommittedObjects()
    {
        foreach (var name in Objects)
        {
            var embedded = BpfObject.LoadEmbedded(name);
            Assert.True(embedded.AsSpan().SequenceEqual(File.ReadAllBytes(Committed(name))), $"embedded {name}.bpf.o is not the committed file");
            Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, embedded[..4]);
        }
    }

    [Fact]
    public void AnUnknownObjectIsATypedError()
    {
        var error = Assert.Throws<BpfException>(() => BpfObject.LoadEmbedded("nope"));
        Assert.Contains("VmProbe.Bpf.nope.bpf.o", error.Message);
    }
}
