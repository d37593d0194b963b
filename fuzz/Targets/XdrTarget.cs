using System.Buffers.Binary;
using System.Reflection;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 2: XDR decoding of every generated type, then re-encoding: the bytes must come back
/// identical (XDR has one encoding per value: zero padding, 0/1 booleans and defined enum values
/// are checked on decode). Input: byte 0 picks the table (0 remote, 1 admin, 2 keepalive: then
/// bytes 1–2 are the procedure number and byte 3 picks args / ret / msg (mod 3); 3 and above: bytes
/// 1–2 index every generated XDR struct/union in name order, byte 3 unused); the rest is the body.
/// Oracle: decoding fails only with <see cref="XdrDecodeException"/>; encoding a decoded value
/// never fails; the round trip is byte-identical.
/// </summary>
public sealed class XdrTarget : FuzzTarget
{
    public override string Name => "xdr";
    public override string Summary => "XDR decode of every generated type (chosen by the first bytes), re-encode, byte-identical round trip";

    private delegate void RoundTripFn(ReadOnlySpan<byte> body);

    private static readonly ProcedureTable[] Tables =
    [
        Protocol.Remote.RemoteProgram.Procedures,
        Protocol.Admin.AdminProgram.Procedures,
        Protocol.Keepalive.KeepaliveProgram.Procedures,
    ];

    private static readonly Dictionary<Type, RoundTripFn> Fns = [];

    /// <summary>Every generated XDR type (structs and unions implementing IXdrType), by full name.</summary>
    public static readonly Type[] AllTypes = typeof(XdrVoid).Assembly.GetTypes()
        .Where(IsXdrType).OrderBy(t => t.FullName, StringComparer.Ordinal).ToArray();

    private static bool IsXdrType(Type t) => t.IsValueType && !t.IsGenericTypeDefinition &&
        t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IXdrType<>) && i.GetGenericArguments()[0] == t);

    private static RoundTripFn? Fn(Type? t)
    {
        if (t is null || !IsXdrType(t)) return null;
        if (Fns.TryGetValue(t, out var fn)) return fn;
        var method = typeof(XdrTarget).GetMethod(nameof(RoundTrip), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t);
        fn = method.CreateDelegate<RoundTripFn>();
        Fns[t] = fn;
        return fn;
    }

    private static void RoundTrip<T>(ReadOnlySpan<byte> body) where T : IXdrType<T>
    {
        T value;
        try
        {
            value = XdrCodec.Decode<T>(body);
        }
        catch (XdrDecodeException)
        {
            return;
        }
        byte[] again;
        try
        {
            again = XdrCodec.ToArray(value);
        }
        catch (Exception e)
        {
            throw new FuzzFinding($"{typeof(T).FullName}: a decoded value does not encode: {e.Message}", e);
        }
        if (!again.AsSpan().SequenceEqual(body))
            throw new FuzzFinding($"{typeof(T).FullName}: round trip differs: in {Convert.ToHexString(body)}, out {Convert.ToHexString(again)}");
        // decoding into the value just decoded (its arrays reused) gives the same value again
        XdrCodec.DecodeInto(body, ref value);
        if (!XdrCodec.ToArray(value).AsSpan().SequenceEqual(body))
            throw new FuzzFinding($"{typeof(T).FullName}: decoding into a reused value differs");
    }

    /// <summary>The type an input selects, or null.</summary>
    public static Type? Select(ReadOnlySpan<byte> input)
    {
        if (input.Length < 4) return null;
        int number = BinaryPrimitives.ReadUInt16BigEndian(input[1..]);
        if (input[0] >= Tables.Length) return AllTypes[number % AllTypes.Length];
        if (!Tables[input[0]].TryGet(number, out var p)) return null;
        return (input[3] % 3) switch { 0 => p.ArgsType, 1 => p.RetType, _ => p.MsgType };
    }

    public override void Setup()
    {
        foreach (var t in AllTypes) Fn(t);
    }

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (Fn(Select(input)) is { } fn) fn(input[4..]);
    }

    /// <summary>The selector bytes for a procedure's args (kind 0), ret (1) or msg (2).</summary>
    public static byte[] Selector(int table, int number, int kind) => [(byte)table, (byte)(number >> 8), (byte)number, (byte)kind];

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        // the golden packets' bodies, each under its procedure's selector
        foreach (var (suffix, kind) in new[] { (".call.hex", 0), (".reply.hex", 1), (".msg.hex", 2) })
        {
            foreach (var (name, packet) in sources.Golden(suffix))
            {
                var header = Protocol.Framing.PacketFraming.ReadHeader(packet);
                int table = Array.FindIndex(Tables, t => t.Program == header.Program);
                if (table < 0 || header.Status != Protocol.Framing.PacketStatus.Ok) continue;
                yield return ($"golden-{name}{suffix[..^4]}", [.. Selector(table, header.Procedure, kind), .. Protocol.Framing.PacketFraming.Body(packet)]);
            }
        }
        // the argument of every procedure at its smallest (a zero-filled value), encoded
        for (int table = 0; table < Tables.Length; table++)
        {
            foreach (var p in Tables[table].All)
            {
                foreach (var (type, kind) in new[] { (p.ArgsType, 0), (p.RetType, 1), (p.MsgType, 2) })
                {
                    if (type is null || !IsXdrType(type)) continue;
                    if (Zero(type) is { } zero)
                        yield return ($"zero-{table}-{p.Number}-{kind}", [.. Selector(table, p.Number, kind), .. zero]);
                }
            }
        }
    }

    /// <summary>The encoding of a default value (null arrays and strings encode as empty when allowed).</summary>
    private static byte[]? Zero(Type t)
    {
        var method = typeof(XdrTarget).GetMethod(nameof(ZeroOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t);
        return (byte[]?)method.Invoke(null, null);
    }

    private static byte[]? ZeroOf<T>() where T : IXdrType<T>
    {
        try
        {
            return XdrCodec.ToArray(default(T)!);
        }
        catch (Exception)
        {
            return null;
        }
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        static byte[] Be(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); return b; }
        foreach (uint v in new uint[] { 0, 1, 2, 16, 256, 0x7fffffff, 0x80000000, 0xffffffff, 4194304, 65536 })
            yield return Be(v);
        for (int table = 0; table < Tables.Length; table++)
            foreach (var p in Tables[table].All)
                yield return Selector(table, p.Number, 0)[..3];
    }
}
