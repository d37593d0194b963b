using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace VirtNetworkd.Benchmarks;

/// <summary>
/// <c>--verify --types</c>: names what was allocated, from the runtime's GC AllocationTick
/// events (one per ~100 KB allocated, naming the type whose allocation crossed the mark), so a
/// row with N bytes per call over enough calls gets its main types named. The listener
/// allocates itself: the byte counts of such a run are not meaningful.
/// </summary>
public sealed class AllocationTypes : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, int> _ticks = new(StringComparer.Ordinal);
    private volatile bool _recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        int i = e.PayloadNames.IndexOf("TypeName");
        if (i >= 0 && e.Payload?[i] is string type) _ticks.AddOrUpdate(type, 1, static (_, n) => n + 1);
    }

    public void Start()
    {
        _ticks.Clear();
        _recording = true;
    }

    /// <summary>"type ×ticks, ..." seen since <see cref="Start"/>, most frequent first.</summary>
    public string Stop()
    {
        // events arrive on the runtime's dispatch thread, a little after the allocation
        Thread.Sleep(200);
        _recording = false;
        return _ticks.IsEmpty ? "(no allocation tick)" : string.Join(", ", _ticks.OrderByDescending(p => p.Value).Select(p => $"{p.Key} ×{p.Value}"));
    }
}
