using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;

namespace VirtNetworkd.Server.Admin;

/// <summary>Typed parameters of the admin program: building them (virTypedParamListAdd*) and
/// checking those a client sends (virTypedParamsValidate, with its errors).</summary>
internal static class AdminParams
{
    public const int Int = 1, UInt = 2, LLong = 3, ULLong = 4, Double = 5, Boolean = 6, String = 7;

    public static TypedParam OfUInt(string field, long value) =>
        new() { Field = field, Value = new TypedParamValue { Type = UInt, Ui = (uint)Math.Clamp(value, 0, uint.MaxValue) } };

    public static TypedParam OfInt(string field, int value) =>
        new() { Field = field, Value = new TypedParamValue { Type = Int, I = value } };

    public static TypedParam OfBool(string field, bool value) =>
        new() { Field = field, Value = new TypedParamValue { Type = Boolean, B = value ? 1 : 0 } };

    public static TypedParam OfString(string field, string value) =>
        new() { Field = field, Value = new TypedParamValue { Type = String, S = value } };

    /// <summary>virTypedParameterTypeToString.</summary>
    public static string TypeName(int type) => type switch
    {
        Int => "int", UInt => "uint", LLong => "llong", ULLong => "ullong", Double => "double", Boolean => "boolean", String => "string",
        _ => "",
    };

    /// <summary>
    /// virTypedParamsValidate over single-valued keys: parameters and keys are compared sorted by
    /// name, so the error is the one libvirt reports first (a repeated name, a wrong type, then
    /// the first name it does not know).
    /// </summary>
    public static void Validate(TypedParam[] parameters, params (string Field, int Type)[] keys)
    {
        var sorted = parameters.OrderBy(p => p.Field, StringComparer.Ordinal).ToArray();
        var known = keys.OrderBy(k => k.Field, StringComparer.Ordinal).ToArray();
        string? last = null;
        int i = 0, j = 0;
        while (i < sorted.Length && j < known.Length)
        {
            if (sorted[i].Field != known[j].Field)
            {
                j++;
                continue;
            }
            if (last == sorted[i].Field)
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None, $"parameter '{sorted[i].Field}' occurs multiple times");
            if (sorted[i].Value.Type != known[j].Type)
                throw new LibvirtError(VirErrorCode.InvalidArg, VirErrorDomain.None,
                    $"invalid type '{TypeName(sorted[i].Value.Type)}' for parameter '{sorted[i].Field}', expected '{TypeName(known[j].Type)}'");
            last = sorted[i].Field;
            i++;
        }
        if (j == known.Length && i != sorted.Length)
            throw new LibvirtError(VirErrorCode.ArgumentUnsupported, VirErrorDomain.None, $"parameter '{sorted[i].Field}' not supported");
    }

    /// <summary>virTypedParamsGet for a validated uint: its value, or -1 ("leave as it is") when absent.</summary>
    public static long UIntOrUnset(TypedParam[] parameters, string field)
    {
        foreach (var p in parameters)
            if (p.Field == field) return p.Value.Ui;
        return -1;
    }

    /// <summary>virCheckFlags(0) in the admin server functions.</summary>
    public static void CheckNoFlags(uint flags, string function)
    {
        if (flags != 0)
            throw LibvirtError.InvalidArg(VirErrorDomain.Admin, $"unsupported flags (0x{flags:x}) in function {function}", function, "flags");
    }
}
