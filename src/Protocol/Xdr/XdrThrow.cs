using System.Diagnostics.CodeAnalysis;

namespace VirtNetworkd.Protocol.Xdr;

/// <summary>Throw helpers kept out of line so the reader/writer fast paths inline.</summary>
public static class XdrThrow
{
    [DoesNotReturn]
    public static void Truncated(int offset, int needed) =>
        throw new XdrDecodeException($"truncated: need {needed} more bytes", offset);

    [DoesNotReturn]
    public static void LengthOverMax(int offset, uint length, uint max) =>
        throw new XdrDecodeException($"length {length} exceeds maximum {max}", offset);

    [DoesNotReturn]
    public static void LengthOverRemaining(int offset, long needed, int remaining) =>
        throw new XdrDecodeException($"length needs {needed} bytes but only {remaining} remain", offset);

    [DoesNotReturn]
    public static void NonZeroPadding(int offset) =>
        throw new XdrDecodeException("non-zero padding", offset);

    [DoesNotReturn]
    public static void BadBool(int offset, int value) =>
        throw new XdrDecodeException($"invalid boolean {value}", offset);

    [DoesNotReturn]
    public static void BadEnum(int offset, string type, int value) =>
        throw new XdrDecodeException($"invalid value {value} for enum {type}", offset);

    [DoesNotReturn]
    public static void BadDiscriminant(int offset, string type, long value) =>
        throw new XdrDecodeException($"invalid discriminant {value} for union {type}", offset);

    [DoesNotReturn]
    public static void OutOfRange(int offset, string type, long value) =>
        throw new XdrDecodeException($"value {value} out of range for {type}", offset);

    [DoesNotReturn]
    public static void BadUtf8(int offset) =>
        throw new XdrDecodeException("string is not valid UTF-8", offset);

    [DoesNotReturn]
    public static void TrailingBytes(int offset, int count) =>
        throw new XdrDecodeException($"{count} trailing bytes", offset);

    [DoesNotReturn]
    public static void EncodeNull(string field) =>
        throw new XdrEncodeException($"{field} must not be null");

    [DoesNotReturn]
    public static void EncodeOverMax(string field, long length, uint max) =>
        throw new XdrEncodeException($"{field} has length {length}, over its maximum {max}");

    [DoesNotReturn]
    public static void EncodeFixedSize(string field, int length, int expected) =>
        throw new XdrEncodeException($"{field} has length {length}, must be exactly {expected}");

    [DoesNotReturn]
    public static void EncodeBadEnum(string type, int value) =>
        throw new XdrEncodeException($"{value} is not a value of enum {type}");

    [DoesNotReturn]
    public static void EncodeBadDiscriminant(string type, long value) =>
        throw new XdrEncodeException($"{value} selects no arm of union {type}");
}
