using System.Reflection;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>Structural comparison of generated values (arrays by content, structs field by field).</summary>
internal static class DeepEquality
{
    /// <summary>Null when equal, otherwise the path of the first difference.</summary>
    public static string? FirstDifference(object? a, object? b, string path = "value")
    {
        if (a is null || b is null) return a is null && b is null ? null : path + (a is null ? " is null" : " should be null");
        if (a.GetType() != b.GetType()) return $"{path}: {a.GetType()} vs {b.GetType()}";
        if (a is string || a.GetType().IsPrimitive || a.GetType().IsEnum)
            return a.Equals(b) ? null : $"{path}: {a} vs {b}";
        if (a is Array x)
        {
            var y = (Array)b;
            if (x.Length != y.Length) return $"{path}: length {x.Length} vs {y.Length}";
            for (int i = 0; i < x.Length; i++)
            {
                var d = FirstDifference(x.GetValue(i), y.GetValue(i), $"{path}[{i}]");
                if (d is not null) return d;
            }
            return null;
        }
        foreach (var f in a.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            var d = FirstDifference(f.GetValue(a), f.GetValue(b), path + "." + f.Name);
            if (d is not null) return d;
        }
        return null;
    }
}
