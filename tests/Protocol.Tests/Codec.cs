using System.Reflection;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>Encode/decode of a generated type known only at run time (tests only: reflection).</summary>
public static class Codec
{
    private static readonly MethodInfo DecodeMethod = typeof(Codec).GetMethod(nameof(DecodeGeneric), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo EncodeMethod = typeof(Codec).GetMethod(nameof(EncodeGeneric), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Decodes a whole body as <paramref name="type"/> (trailing bytes are an error); the value is boxed.</summary>
    public static object Decode(Type type, byte[] body) => Unwrap(() => DecodeMethod.MakeGenericMethod(type).Invoke(null, [body])!);

    public static byte[] Encode(Type type, object value) => Unwrap(() => (byte[])EncodeMethod.MakeGenericMethod(type).Invoke(null, [value])!);

    private static T Unwrap<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static object DecodeGeneric<T>(byte[] body) where T : IXdrType<T> => XdrCodec.Decode<T>(body);

    private static byte[] EncodeGeneric<T>(object value) where T : IXdrType<T>
    {
        using var buffer = new PooledBufferWriter(64);
        XdrCodec.Encode(buffer, (T)value);
        return buffer.ToArray();
    }

    public static bool IsXdrType(Type t) =>
        t.IsValueType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IXdrType<>));
}
