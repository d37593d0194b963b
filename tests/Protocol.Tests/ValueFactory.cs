using System.Text;
using VirtNetworkd.Protocol.Generator.Compiler;

namespace VirtNetworkd.Protocol.Tests;

public enum ValueVariant
{
    /// <summary>Empty strings and arrays, null optionals, the first union arm, zeros.</summary>
    Empty,
    /// <summary>Strings, opaques and arrays at their declared maximum (capped for the 4 MiB
    /// bounds, which have their own test), extreme numbers.</summary>
    Max,
    /// <summary>Small random values, some multi-byte UTF-8.</summary>
    Random,
}

/// <summary>Builds boxed values of generated types from the compiler's model of their shapes.</summary>
internal sealed class ValueFactory
{
    /// <summary>Largest string/opaque/array built at its exact maximum.</summary>
    public const uint MaxCap = 70_000;
    private const string Multibyte = "aé€𝄞z-_.:/";
    private readonly Random _rng;

    public ValueFactory(int seed) => _rng = new Random(seed);

    /// <summary>A struct, or a union with arm <paramref name="arm"/> (-1: per variant).</summary>
    public object Make(TypeSymbol symbol, ValueVariant variant, int arm = -1)
    {
        var type = ProtocolModel.RuntimeType(symbol);
        object boxed = Activator.CreateInstance(type)!;
        switch (symbol)
        {
            case StructSymbol s:
                foreach (var f in s.Fields) Set(type, boxed, f, variant);
                break;
            case UnionSymbol u:
                var arms = Arms(u);
                var (value, field) = arms[arm >= 0 ? arm : variant == ValueVariant.Random ? _rng.Next(arms.Count) : 0];
                var discField = type.GetField(u.Discriminant.CsName)!;
                discField.SetValue(boxed, Convert(discField.FieldType, value));
                if (field is not null) Set(type, boxed, field, variant);
                break;
        }
        return boxed;
    }

    /// <summary>Every arm as (a discriminant value selecting it, its field or null for void).</summary>
    public static List<(long Value, FieldSymbol? Field)> Arms(UnionSymbol u)
    {
        var list = u.Arms.Select(a => (a.Values[0], a.Field)).ToList();
        if (u.Default is not null)
        {
            var used = u.Arms.SelectMany(a => a.Values).ToHashSet();
            IEnumerable<long> candidates = u.Discriminant.Shape is NamedShape { Symbol: EnumSymbol e }
                ? e.Members.Select(m => m.Value)
                : u.Discriminant.Shape is PrimitiveShape { Kind: BaseKind.Bool } ? [0L, 1L] : Enumerable.Range(0, 1000).Select(i => (long)i + 1000);
            foreach (var c in candidates)
            {
                if (!used.Contains(c))
                {
                    list.Add((c, u.Default.Field));
                    break;
                }
            }
        }
        return list;
    }

    private void Set(Type owner, object boxed, FieldSymbol f, ValueVariant variant)
    {
        var fi = owner.GetField(f.CsName) ?? throw new InvalidOperationException($"{owner.Name} has no field {f.CsName}");
        fi.SetValue(boxed, Make(f.Shape, fi.FieldType, variant));
    }

    public object? Make(Shape shape, Type clr, ValueVariant variant)
    {
        switch (shape)
        {
            case PrimitiveShape p:
                return Primitive(p.Kind, variant);
            case StringShape s:
                return MakeString(s.Max, variant);
            case OpaqueShape o:
            {
                int n = o.IsFixed ? (int)o.Size : variant switch
                {
                    ValueVariant.Empty => 0,
                    ValueVariant.Max => (int)Math.Min(o.Size, MaxCap),
                    _ => _rng.Next((int)Math.Min(o.Size, 40) + 1),
                };
                var b = new byte[n];
                _rng.NextBytes(b);
                return b;
            }
            case ArrayShape a:
            {
                int n = a.IsFixed ? (int)a.Size : variant switch
                {
                    ValueVariant.Empty => 0,
                    ValueVariant.Max => (int)Math.Min(a.Size, a.Element.MinWireSize > 64 ? 256 : 20_000),
                    _ => _rng.Next((int)Math.Min(a.Size, 3) + 1),
                };
                var elementType = clr.GetElementType()!;
                var arr = Array.CreateInstance(elementType, n);
                // elements are small: a maximal array of maximal elements would be gigabytes
                var inner = variant == ValueVariant.Max ? ValueVariant.Random : variant;
                for (int i = 0; i < n; i++) arr.SetValue(Make(a.Element, elementType, inner), i);
                return arr;
            }
            case OptionalShape o:
            {
                if (variant == ValueVariant.Empty || (variant == ValueVariant.Random && _rng.Next(2) == 0)) return null;
                var inner = Nullable.GetUnderlyingType(clr) ?? clr;
                return Make(o.Element, inner, variant);
            }
            case NamedShape { Symbol: EnumSymbol e }:
            {
                var m = variant == ValueVariant.Empty ? e.Members[0] : variant == ValueVariant.Max ? e.Members[^1] : e.Members[_rng.Next(e.Members.Count)];
                return Enum.ToObject(Nullable.GetUnderlyingType(clr) ?? clr, m.Value);
            }
            case NamedShape n:
                return Make(n.Symbol, variant);
            default:
                throw new InvalidOperationException("unknown shape " + shape);
        }
    }

    private string MakeString(uint max, ValueVariant variant)
    {
        switch (variant)
        {
            case ValueVariant.Empty:
                return "";
            case ValueVariant.Max:
                return new string('m', (int)Math.Min(max, MaxCap));
            default:
            {
                int chars = _rng.Next((int)Math.Min(max, 24) + 1);
                var sb = new StringBuilder();
                for (int i = 0; i < chars; i++)
                {
                    int k = _rng.Next(Multibyte.Length);
                    string next = char.IsHighSurrogate(Multibyte[k]) ? Multibyte.Substring(k, 2) : char.IsLowSurrogate(Multibyte[k]) ? "x" : Multibyte[k].ToString();
                    if (Encoding.UTF8.GetByteCount(sb + next) > max) break;
                    sb.Append(next);
                }
                return sb.ToString();
            }
        }
    }

    private object Primitive(BaseKind kind, ValueVariant v)
    {
        long r = _rng.NextInt64();
        bool max = v == ValueVariant.Max, empty = v == ValueVariant.Empty;
        return kind switch
        {
            BaseKind.Int => empty ? 0 : max ? int.MinValue : (int)r,
            BaseKind.UInt => empty ? 0u : max ? uint.MaxValue : (uint)r,
            BaseKind.Hyper => empty ? 0L : max ? long.MinValue : r,
            BaseKind.UHyper => empty ? 0UL : max ? ulong.MaxValue : (ulong)r,
            BaseKind.Char => empty ? (sbyte)0 : max ? sbyte.MinValue : (sbyte)r,
            BaseKind.UChar => empty ? (byte)0 : max ? byte.MaxValue : (byte)r,
            BaseKind.Short => empty ? (short)0 : max ? short.MinValue : (short)r,
            BaseKind.UShort => empty ? (ushort)0 : max ? ushort.MaxValue : (ushort)r,
            BaseKind.Float => empty ? 0f : max ? float.MaxValue : (float)_rng.NextDouble(),
            BaseKind.Double => empty ? 0d : max ? double.MinValue : _rng.NextDouble() * 1e9,
            BaseKind.Bool => !empty && (max || _rng.Next(2) == 1),
            _ => throw new InvalidOperationException(kind.ToString()),
        };
    }

    private static object Convert(Type t, long value)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        if (u.IsEnum) return Enum.ToObject(u, value);
        if (u == typeof(bool)) return value != 0;
        return System.Convert.ChangeType(value, u, System.Globalization.CultureInfo.InvariantCulture);
    }
}
