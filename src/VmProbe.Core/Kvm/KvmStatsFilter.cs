namespace VmProbe.Kvm;

/// <summary><c>kvmstatsallow</c>: KVM statistic names as the kernel spells them (<c>exits</c>, <c>halt_poll_success_ns</c>),
/// a trailing <c>*</c> matching a prefix (<c>halt_*</c>). An empty list allows every statistic.</summary>
public static class KvmStatsFilter
{
    /// <summary>A name of [a-z0-9_] (upper case accepted, as debugfs spells nothing so), optionally ending in <c>*</c>.</summary>
    public static bool IsValidPattern(string pattern)
    {
        if (string.IsNullOrEmpty(pattern) || pattern.Length > 128)
        {
            return false;
        }

        var body = pattern.EndsWith('*') ? pattern[..^1] : pattern;
        return body.Length > 0 ? body.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') : pattern == "*";
    }

    /// <summary>The predicate for a list of patterns, or null (everything) when the list is empty.</summary>
    public static Func<string, bool>? Create(IReadOnlyList<string> patterns)
    {
        if (patterns.Count == 0)
        {
            return null;
        }

        var exact = new HashSet<string>(patterns.Where(p => !p.EndsWith('*')), StringComparer.Ordinal);
        var prefixes = patterns.Where(p => p.EndsWith('*')).Select(p => p[..^1]).ToArray();
        return name => exact.Contains(name) || prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
    }
}
