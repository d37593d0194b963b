namespace VirtNetworkd.Server.Remote;

/// <summary>virTypedParameterType: the discriminant of remote_typed_param_value.</summary>
internal static class TypedParamType
{
    public const int Int = 1, UInt = 2, LLong = 3, ULLong = 4, Double = 5, Boolean = 6, String = 7;

    /// <summary>virTypedParameterTypeToString.</summary>
    public static string Name(int type) => type switch
    {
        Int => "int", UInt => "uint", LLong => "llong", ULLong => "ullong", Double => "double", Boolean => "boolean", String => "string",
        _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
