using VmProbe.Config;
using Xunit;

namespace VmProbe.Tests.Config;

/// <summary>YAML aliases: a problem in an aliased node is reported where the alias is written, and once per line.</summary>
public sealed class ConfigAliasTests
{
    private static string[] Errors(string text) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "a.yaml")).Errors.Select(e => e.ToString()).ToArray();

    [Fact]
    public void AliasedListInAListIsReportedOnTheAliasLineOnce()
    {
        var errors = Errors("a: &a [x]\nb: &b [*a,*a]\n");
        Assert.Equal(new[] { "a.yaml:2: b: list items must be plain values" }, errors);
    }

    [Fact]
    public void AliasBombGivesOneErrorPerKeyOnItsOwnLine()
    {
        var text = "a: &a [x,x,x]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\nd: [*c,*c,*c]\n";
        var errors = Errors(text);
        Assert.Equal(new[]
        {
            "a.yaml:2: b: list items must be plain values",
            "a.yaml:3: c: list items must be plain values",
            "a.yaml:4: d: list items must be plain values",
        }, errors);
    }

    [Fact]
    public void EachAliasOfABlockListNamesItsOwnLine()
    {
        var errors = Errors("a: &a [x]\nperfsoftware:\n  - *a\n  - task-clock\n  - *a\n");
        Assert.Equal(new[]
        {
            "a.yaml:3: perfsoftware: list items must be plain values",
            "a.yaml:5: perfsoftware: list items must be plain values",
        }, errors);
    }

    [Fact]
    public void BadEventThroughAnAliasIsReportedAtTheAlias()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("x: &x no-such-event\nperfsoftware: [*x, *x]\n", "a.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((2, "perfsoftware"), (error.Line, error.Key));
    }

    [Fact]
    public void ScalarValueThroughAnAliasIsReportedAtTheAlias()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("d: &d 5\nprefix: ok\ndelay: *d\n", "a.yaml"));
        var error = Assert.Single(ex.Errors);
        Assert.Equal((3, "delay"), (error.Line, error.Key));
        Assert.Contains(">= 100", error.Message);
    }

    [Fact]
    public void WholeListThroughAnAliasIsReportedAtTheAlias()
    {
        var errors = Errors("a: &a [[x], [y]]\nb: 1\nc: *a\n");
        Assert.Equal(new[] { "a.yaml:1: a: list items must be plain values", "a.yaml:3: c: list items must be plain values" }, errors);
    }

    [Fact]
    public void GoodEventsThroughAliasesAreAccepted()
    {
        var result = ConfigLoader.Parse("events: &e [task-clock, page-faults]\nperfsoftware: *e\n", "a.yaml");
        Assert.Equal(2, result.Config.Events.Count);
        Assert.Equal(new[] { 2, 2 }, result.EventLines);
    }
}
