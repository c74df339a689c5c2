namespace VmProbe.Procfs;

/// <summary>
/// What VmProbe takes from a QEMU command line: the guest name (<c>-name guest=NAME,...</c> or <c>-name NAME,...</c>,
/// with QEMU's <c>,,</c> escape for a literal comma) and the <c>-uuid</c>.
/// </summary>
internal sealed record QemuCommandLine(string? Name, Guid? Uuid)
{
    private static readonly string[] ExecutableNames = { "qemu-kvm", "kvm" };

    /// <summary>True for <c>qemu-system-*</c>, <c>qemu-kvm</c> and <c>kvm</c> (by basename, any directory).</summary>
    public static bool IsQemuExecutable(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        var name = Path.GetFileName(path);
        return (name.StartsWith("qemu-system-", StringComparison.Ordinal) && name.Length > "qemu-system-".Length)
            || ExecutableNames.Contains(name, StringComparer.Ordinal);
    }

    public static QemuCommandLine Parse(IReadOnlyList<string> argv)
    {
        string? name = null;
        Guid? uuid = null;
        for (var i = 1; i < argv.Count; i++)
        {
            var option = argv[i];
            string? value;

            // QEMU accepts -opt value, --opt value and (for most options) -opt=value.
            if (option.StartsWith("--", StringComparison.Ordinal))
            {
                option = option[1..];
            }

            var eq = option.IndexOf('=');
            if (eq > 0 && option.StartsWith('-'))
            {
                value = option[(eq + 1)..];
                option = option[..eq];
            }
            else
            {
                value = i + 1 < argv.Count ? argv[i + 1] : null;
                if (option is "-name" or "-uuid")
                {
                    i++;
                }
            }

            if (value is null)
            {
                continue;
            }

            if (option == "-name")
            {
                name = ParseNameOption(value);
            }
            else if (option == "-uuid" && Guid.TryParse(value, out var parsed))
            {
                uuid = parsed;
            }
        }

        return new QemuCommandLine(name, uuid);
    }

    /// <summary>
    /// The guest name from a <c>-name</c> value: QemuOpts with implied key <c>guest</c>, so <c>web-01</c>,
    /// <c>web-01,debug-threads=on</c> and <c>guest=web-01,debug-threads=on</c> all name <c>web-01</c>; <c>a,,b</c> is <c>a,b</c>.
    /// </summary>
    public static string? ParseNameOption(string value)
    {
        var index = 0;
        var first = true;
        while (index <= value.Length)
        {
            var item = NextItem(value, ref index);
            var eq = item.IndexOf('=');
            if (first && eq < 0)
            {
                return item;
            }

            if (eq > 0 && item[..eq] == "guest")
            {
                return item[(eq + 1)..];
            }

            first = false;
            if (index >= value.Length)
            {
                break;
            }
        }

        return null;
    }

    // One comma-separated item with ",," unescaped to ",".
    private static string NextItem(string value, ref int index)
    {
        var sb = new System.Text.StringBuilder();
        while (index < value.Length)
        {
            var c = value[index];
            if (c == ',')
            {
                if (index + 1 < value.Length && value[index + 1] == ',')
                {
                    sb.Append(',');
                    index += 2;
                    continue;
                }

                index++;
                return sb.ToString();
            }

            sb.Append(c);
            index++;
        }

        index = value.Length + 1;
        return sb.ToString();
    }
}
