using System.Collections;
using System.Management.Automation;

namespace VmProbe.Commands;

/// <summary>
/// Lets -Domain take, besides VmDomain objects, a domain name, a UUID, or any object with a Name and/or Uuid
/// property (Import-Csv rows, [pscustomobject]s, Select-Object output, hashtables, CLR objects). Those become
/// unresolved references (Uri null) that <see cref="DomainResolver"/> looks up before use.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class VmDomainTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        if (FromPSObject(inputData) is { } single)
        {
            return new[] { single };
        }

        var value = Unwrap(inputData);
        switch (value)
        {
            case VmDomain[] domains:
                return domains;
            case VmDomain domain:
                return new[] { domain };
        }

        if (value is not string && value is not IDictionary && value is IEnumerable items)
        {
            var list = new List<VmDomain>();
            foreach (var item in items)
            {
                list.Add(FromPSObject(item) ?? ToDomain(Unwrap(item)));
            }

            return list.ToArray();
        }

        return new[] { ToDomain(value) };
    }

    internal static VmDomain Reference(string name, Guid uuid) => new() { Name = name, Uuid = uuid, Uri = null };

    /// <summary>
    /// The reference an object's Name/Uuid properties make, read through <paramref name="lookup"/> (a PSObject's
    /// <c>Properties</c>, where [pscustomobject]s and Import-Csv rows keep their data as note properties); null when the
    /// base object is one the usual conversion handles (a VmDomain keeps its Uri, a string is a name, a collection is
    /// enumerated, a hashtable's keys are no properties) or it has neither property.
    /// </summary>
    internal static VmDomain? FromPropertyLookup(object? baseObject, Func<string, (bool Found, object? Value)> lookup, object? source)
    {
        if (baseObject is VmDomain or string or Guid or IDictionary or IEnumerable)
        {
            return null;
        }

        var name = lookup("Name");
        var uuid = lookup("Uuid");
        if (!name.Found && !uuid.Found)
        {
            return null;
        }

        return FromProperties(name.Value, uuid.Value, source);
    }

    private static VmDomain? FromPSObject(object? value) =>
        value is PSObject pso
            ? FromPropertyLookup(pso.BaseObject, name => pso.Properties[name] is { } property ? (true, property.Value) : (false, null), pso)
            : null;

    private static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

    private static VmDomain ToDomain(object? value)
    {
        switch (value)
        {
            case VmDomain domain:
                return domain;
            case Guid uuid:
                return Reference(string.Empty, uuid);
            case string text when Guid.TryParse(text, out var parsed):
                return Reference(string.Empty, parsed);
            case string text when text.Length > 0:
                return Reference(text, Guid.Empty);
            case IDictionary dictionary:
                return FromProperties(dictionary["Name"], dictionary["Uuid"], value);
            case PSCustomObject:
            case null:
                break;
            default:
                var type = value.GetType();
                var nameProperty = type.GetProperty("Name");
                var uuidProperty = type.GetProperty("Uuid");
                if (nameProperty is not null || uuidProperty is not null)
                {
                    return FromProperties(nameProperty?.GetValue(value), uuidProperty?.GetValue(value), value);
                }

                break;
        }

        throw new ArgumentTransformationMetadataException(
            $"Cannot use '{value ?? "null"}' as a domain: give a VmDomain (from Get-VmDomain), a domain name, a UUID, or an object with a Name or Uuid property.");
    }

    private static VmDomain FromProperties(object? name, object? uuid, object? source)
    {
        var nameText = Unwrap(name)?.ToString() ?? string.Empty;
        var uuidValue = Unwrap(uuid) switch
        {
            Guid g => g,
            string s when Guid.TryParse(s, out var g) => g,
            _ => Guid.Empty,
        };
        if (nameText.Length == 0 && uuidValue == Guid.Empty)
        {
            throw new ArgumentTransformationMetadataException($"Cannot use '{source}' as a domain: it has neither a Name nor a Uuid.");
        }

        return Reference(nameText, uuidValue);
    }
}
