using System.Diagnostics;
using System.Numerics;

namespace VirtNetworkd.LoadGen;

/// <summary>
/// A fixed-size log-linear histogram of Stopwatch ticks (HdrHistogram's layout with 64
/// sub-buckets per power of two): values below 128 ticks are exact, larger ones land in a bucket
/// at most 1/64 (1.6 %) wide. Recording is two shifts and an increment; nothing is allocated
/// after construction, whatever the number of calls.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 6;                // 64 sub-buckets per octave
    private const int Linear = 2 << SubBits;      // 0..127 recorded exactly
    private readonly long[] _counts = new long[Linear + (63 - SubBits) * (1 << SubBits)];

    public long Count { get; private set; }
    public long Max { get; private set; }
    public long Min { get; private set; } = long.MaxValue;

    public void Record(long ticks)
    {
        if (ticks < 0) ticks = 0;
        _counts[Index(ticks)]++;
        Count++;
        if (ticks > Max) Max = ticks;
        if (ticks < Min) Min = ticks;
    }

    private static int Index(long v)
    {
        if (v < Linear) return (int)v;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)v); // >= SubBits + 1
        int shift = msb - SubBits;
        int top = (int)(v >> shift);                               // 64..127
        return Linear + (msb - SubBits - 1) * (1 << SubBits) + (top - (1 << SubBits));
    }

    /// <summary>Lowest and highest value that fall in bucket <paramref name="i"/>.</summary>
    private static (long Low, long High) Bounds(int i)
    {
        if (i < Linear) return (i, i);
        int k = i - Linear;
        int msb = k / (1 << SubBits) + SubBits + 1;
        int top = k % (1 << SubBits) + (1 << SubBits);
        int shift = msb - SubBits;
        long low = (long)top << shift;
        return (low, low + (1L << shift) - 1);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        if (other.Max > Max) Max = other.Max;
        if (other.Min < Min) Min = other.Min;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1): the middle of its bucket,
    /// clamped to the recorded maximum.</summary>
    public long ValueAt(double q)
    {
        if (Count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var (low, high) = Bounds(i);
                return Math.Min((low + high) / 2, Max);
            }
        }
        return Max;
    }

    public static double TicksToMicros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
