using VmProbe.Libvirt;
using System.Diagnostics;
using VmProbe.Config;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>Config files built to hurt: deep nesting, huge files and lists, repeats, remote or program-running URLs, control characters.</summary>
public sealed class HostileConfigTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("vmprobe-hostile-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData(30_000, '[')]
    [InlineData(30_000, '{')]
    [InlineData(9, '[')]
    public void DeepNestingIsAnErrorNotAStackOverflow(int depth, char open)
    {
        var path = Write("nested.yaml", "perfsoftware: " + new string(open, depth) + "\n");
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
        var error = Assert.Single(ex.Errors);
        Assert.Equal((1, "perfsoftware"), (error.Line, error.Key));
        Assert.Contains($"nested more than {ConfigLoader.MaxNestingDepth} levels", error.Message);
    }

    [Fact]
    public void NestingWithoutAKeyNamesTheFile()
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(new string('[', 60_000), "n.yaml")).Errors);
        Assert.Equal(ConfigLoader.FileKey, error.Key);
        Assert.StartsWith("n.yaml:1: config: YAML nested more than", error.ToString());
    }

    [Fact]
    public void FileOverTheSizeCapIsRefusedBeforeParsing()
    {
        // 10 MB: one repeated event, as in the issue (699,046 warning lines before).
        var path = Path.Combine(dir, "huge.yaml");
        using (var writer = new StreamWriter(path))
        {
            writer.Write("perfsoftware:\n");
            for (var i = 0; i < 700_000; i++)
            {
                writer.Write("  - task-clock\n");
            }
        }

        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), watch.Elapsed.ToString());
        var error = Assert.Single(ex.Errors);
        Assert.Equal((null, ConfigLoader.FileKey), (error.Line, error.Key));
        Assert.Contains("larger than 256 KiB are refused", error.Message);
        Assert.Equal("config,too_large", ex.ErrorId);
    }

    [Fact]
    public void EndlessFileIsRefusedInBoundedTime()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/dev/zero"));
        Assert.Contains("refused", Assert.Single(ex.Errors).Message);
    }

    [Fact]
    public void LongListIsAnError()
    {
        var items = string.Concat(Enumerable.Repeat("  - cs\n", ConfigLoader.MaxListItems + 1));
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse("perfsoftware:\n" + items, "l.yaml")).Errors);
        Assert.Equal((1, "perfsoftware"), (error.Line, error.Key));
        Assert.Contains($"at most {ConfigLoader.MaxListItems}", error.Message);

        var comma = string.Join(",", Enumerable.Repeat("cs", ConfigLoader.MaxListItems + 1));
        Assert.Contains("at most", Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse("perfsoftware=" + comma + "\n", "l.conf")).Errors).Message);
    }

    [Fact]
    public void RepeatedEventsGiveOneWarningWithTheCount()
    {
        var items = string.Concat(Enumerable.Repeat("  - task-clock\n  - cs\n", 500));
        var result = ConfigLoader.Parse("perfsoftware:\n" + items, "r.yaml");
        Assert.Equal(2, result.Config.Events.Count);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("998 repeated events are ignored", warning.Message);
        Assert.Contains("'task-clock' (line 2) 499 more times", warning.Message);
        Assert.Equal((4, "perfsoftware"), (warning.Line, warning.Key));
    }

    [Fact]
    public void ManyUnknownKeysGiveABoundedNumberOfWarnings()
    {
        var text = string.Concat(Enumerable.Range(0, 5000).Select(i => $"k{i}: 1\n"));
        var result = ConfigLoader.Parse(text, "k.yaml");
        Assert.Equal(ConfigLoader.MaxDiagnostics + 1, result.Warnings.Count);
        Assert.Contains("4950 more warning(s) not shown", result.Warnings[^1].Message);
    }

    [Theory]
    [InlineData("endpoint: \"/tmp/a\\nb.prom\"\n", "U+000A")]
    [InlineData("endpoint: \"/tmp/a\\tb.prom\"\n", "U+0009")]
    [InlineData("endpoint: \"/tmp/a\\x7fb.prom\"\n", "U+007F")]
    [InlineData("endpoint: \"/tmp/a\\0b.prom\"\n", "U+0000")]
    public void EndpointWithAControlCharacterIsRefused(string text, string which)
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "e.yaml")).Errors);
        Assert.Equal((1, "endpoint"), (error.Line, error.Key));
        Assert.Contains(which, error.Message);
    }

    [Theory]
    [InlineData("qemu:///system")]
    [InlineData("qemu:///session")]
    [InlineData("qemu+unix:///system")]
    [InlineData("qemu:///system?mode=direct")]
    [InlineData("test:///default")]
    [InlineData("test:///tmp/node.xml")]
    [InlineData("lxc:///system")]
    [InlineData("ch:///session")]
    public void LocalUrlsAreAccepted(string url)
    {
        Assert.Null(LibvirtUrlPolicy.Check(url, allowRemote: false));
        Assert.Equal(url, ConfigLoader.Parse($"url: {url}\n", "u.yaml").Config.Url);
    }

    [Theory]
    [InlineData("qemu+ext:///system?command=/tmp/x.sh", "runs an external program")]
    [InlineData("qemu+ssh://root@host/system", "over SSH")]
    [InlineData("qemu+libssh2://host/system", "over SSH")]
    [InlineData("qemu+tcp://host/system", "over the network")]
    [InlineData("qemu+tls://host/system", "over the network")]
    [InlineData("qemu://host/system", "names a host")]
    [InlineData("qemu://localhost/system", "names a host")]
    [InlineData("qemu+unix:///system?socket=/tmp/evil.sock", "query parameter 'socket'")]
    [InlineData("qemu:///system?command=/tmp/x.sh", "query parameter 'command'")]
    [InlineData("qemu:///embed?root=/tmp/r", "qemu:///embed")]
    [InlineData("esx://host/", "not a local libvirt driver")]
    [InlineData("myalias", "alias")]
    public void RemoteOrProgramRunningUrlsAreRefused(string url, string reason)
    {
        Assert.Contains(reason, LibvirtUrlPolicy.Check(url, allowRemote: false));
        var error = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"url: \"{url}\"\n", "u.yaml")).Errors);
        Assert.Equal((1, "url"), (error.Line, error.Key));
        Assert.Contains(reason, error.Message);
        Assert.Contains("allowremoteurl: true", error.Message);
        Assert.StartsWith("u.yaml:1: url: ", error.ToString());

        var allowed = ConfigLoader.Parse($"allowremoteurl: true\nurl: \"{url}\"\n", "u.yaml").Config;
        Assert.Equal((url, true), (allowed.Url, allowed.AllowRemoteUrl));
        var thrown = Assert.Throws<VmProbeException>(() => LibvirtUrlPolicy.Ensure(url, allowRemote: false));
        Assert.Equal(("libvirt_uri,refused", ProbeErrorKind.InvalidArgument), (thrown.ErrorId, thrown.Kind));
    }

    [Fact]
    public void ControlCharactersInTheUrlAreRefusedEvenWhenRemoteIsAllowed()
    {
        Assert.Contains("control", LibvirtUrlPolicy.Check("qemu:///system\n", allowRemote: true));
    }

    [Theory]
    [InlineData("delay: 5000\nfoo: [1\n", "foo")]
    [InlineData("prefix=a\ndelay 5000\n", "config")]
    [InlineData("- a\n- b\n", "config")]
    [InlineData("a: 1\n---\nb: 2\n", "config")]
    [InlineData("delay: 50\n", "delay")]
    [InlineData("perfsoftware: [nosuch]\n", "perfsoftware")]
    [InlineData("naming: x\n", "naming")]
    public void EveryErrorCarriesItsKey(string text, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "k.yaml"));
        Assert.All(ex.Errors, e => Assert.False(string.IsNullOrEmpty(e.Key)));
        Assert.Equal(key, ex.Errors[0].Key);
        Assert.Matches($"^k\\.yaml:\\d+: {key}: [^:]", ex.Errors[0].ToString());
    }
}
