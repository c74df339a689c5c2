namespace VmProbe.Kvm;

/// <summary><c>kvmstatsallow</c>: KVM statistic names as the kernel spells them (<c>exits</c>, <c>halt_poll_success_ns</c>),
/// a trailing <c>*</c> matching a prefix (<c>halt_*</c>). An empty list allows every statistic.</summary>
public static class KvmStatsFilter
{
    /// <summary>A name of [a-z0-9_] (as the kernel spells every statistic), optionally ending in <c>*</c>.</summary>
    public static bool IsValidPattern(string pattern) => Check(pattern) is null;

    /// <summary>Null for a valid pattern, else why it is not one, naming it: an allowlist item that can match nothing
    /// (upper case: the kernel's names are lower case) or everything (empty) is refused rather than silently obeyed.</summary>
    public static string? Check(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return "an empty item is not a KVM statistic name (leave the list out to allow every statistic)";
        }

        if (pattern.Length > 128)
        {
            return $"'{pattern[..32]}...' is not a KVM statistic name (longer than 128 characters)";
        }

        var body = pattern.EndsWith('*') ? pattern[..^1] : pattern;
        if (body.Any(char.IsAsciiLetterUpper) && body.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return $"'{pattern}' is not a KVM statistic name: the kernel's names are lower case ([a-z0-9_]); did you mean '{pattern.ToLowerInvariant()}'?";
        }

        return (body.Length > 0 ? body.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') : pattern == "*")
            ? null
            : $"'{pattern}' is not a KVM statistic name ([a-z0-9_], optionally ending in *)";
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
