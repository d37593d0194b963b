using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Programs;
using VirtNetworkd.Protocol.Xdr;

namespace VirtNetworkd.Server.Rpc;

/// <summary>Runs a call whose arguments were decoded; <typeparamref name="TState"/> is the
/// program's per-client state.</summary>
public delegate void CallHandler<TState, TArgs>(IRpcClient client, TState state, PacketHeader call, in TArgs args);

/// <summary>Runs a call on its undecoded body.</summary>
public delegate void RawCallHandler<TState>(IRpcClient client, TState state, PacketHeader call, ReadOnlySpan<byte> body);

/// <summary>
/// One program's dispatch: a row per procedure it serves, indexed by number, saying how its
/// arguments are decoded, which check runs before it (open connection, read-only refusal), whether
/// it runs inline on the event loop or on the worker pool (at the procedure's priority), and its
/// handler. Procedures without a row are the program's to answer (<see cref="TryDispatch"/> false).
/// </summary>
public sealed class DispatchTable<TState>
{
    private delegate void Row(IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body);

    /// <summary>How a row runs, for tests and introspection.</summary>
    public enum Mode { Inline, Worker }

    private readonly ProcedureTable _procedures;
    private readonly Action<TState, ProcedureInfo>? _defaultCheck;
    private Row?[] _rows;
    private Mode[] _modes;

    /// <param name="defaultCheck">The check a row runs after decoding unless it names none.</param>
    public DispatchTable(ProcedureTable procedures, Action<TState, ProcedureInfo>? defaultCheck)
    {
        _procedures = procedures;
        _defaultCheck = defaultCheck;
        _rows = [];
        _modes = [];
    }

    public bool Serves(int procedure) => (uint)procedure < (uint)_rows.Length && _rows[procedure] is not null;

    public Mode ModeOf(int procedure) => Serves(procedure) ? _modes[procedure] : throw new ArgumentOutOfRangeException(nameof(procedure));

    /// <summary>Procedure numbers with a row.</summary>
    public IEnumerable<int> Procedures => Enumerable.Range(0, _rows.Length).Where(Serves);

    private ProcedureInfo Info(int procedure) =>
        _procedures.TryGet(procedure, out var info) ? info : throw new ArgumentException($"procedure {procedure} is not in {_procedures.Name}");

    private void Add(int procedure, Mode mode, Row row)
    {
        if (procedure >= _rows.Length)
        {
            Array.Resize(ref _rows, procedure + 1);
            Array.Resize(ref _modes, procedure + 1);
        }
        if (_rows[procedure] is not null) throw new InvalidOperationException($"procedure {procedure} has a row already");
        _rows[procedure] = row;
        _modes[procedure] = mode;
    }

    private Action<TState, ProcedureInfo>? CheckFor(bool check) => check ? _defaultCheck : null;

    /// <summary>A cheap call run on the event loop. Its arguments are decoded into a value kept
    /// per thread and type (no allocation): the handler must use them up before it returns; with
    /// <paramref name="keepsArgs"/>, for a handler that stores an array of them, a new value.</summary>
    public DispatchTable<TState> Inline<TArgs>(int procedure, CallHandler<TState, TArgs> handler, bool check = true, bool keepsArgs = false)
        where TArgs : struct, IXdrType<TArgs>
    {
        var info = Info(procedure);
        var guard = CheckFor(check);
        if (keepsArgs)
        {
            Add(procedure, Mode.Inline, (IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body) =>
            {
                var args = XdrCodec.Decode<TArgs>(body);
                guard?.Invoke(state, info);
                handler(client, state, call, in args);
            });
            return this;
        }
        Add(procedure, Mode.Inline, (IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body) =>
        {
            ref readonly TArgs args = ref ScratchArgs.Decode<TArgs>(body);
            guard?.Invoke(state, info);
            handler(client, state, call, in args);
        });
        return this;
    }

    /// <summary>A call run on the event loop with its body as it came (no decoding, no check).</summary>
    public DispatchTable<TState> Raw(int procedure, RawCallHandler<TState> handler)
    {
        Info(procedure);
        Add(procedure, Mode.Inline, (IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body) => handler(client, state, call, body));
        return this;
    }

    /// <summary>A call that may block (files, processes, the kernel), run on the worker pool at
    /// the procedure's priority; its reply is flushed when the handler returns.</summary>
    public DispatchTable<TState> Worker<TArgs>(int procedure, CallHandler<TState, TArgs> handler, bool check = true)
        where TArgs : IXdrType<TArgs>
    {
        var info = Info(procedure);
        var guard = CheckFor(check);
        Add(procedure, Mode.Worker, (IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body) =>
        {
            var args = XdrCodec.Decode<TArgs>(body);
            guard?.Invoke(state, info);
            client.RunOnWorker(call, info.HighPriority, (c, h) => handler(c, state, h, in args));
        });
        return this;
    }

    /// <summary>Runs the row of <paramref name="call"/>'s procedure; false when there is none.</summary>
    public bool TryDispatch(IRpcClient client, TState state, in PacketHeader call, ReadOnlySpan<byte> body)
    {
        int p = call.Procedure;
        if ((uint)p >= (uint)_rows.Length || _rows[p] is not { } row) return false;
        row(client, state, call, body);
        return true;
    }
}

/// <summary>Arguments decoded into a value kept per thread and type, whose arrays (uuids) the
/// next call reuses: only for arguments used up before the handler returns, never kept.</summary>
internal static class ScratchArgs
{
    public static ref readonly T Decode<T>(ReadOnlySpan<byte> body) where T : struct, IXdrType<T>
    {
        ref T value = ref Holder<T>.Value;
        var r = new XdrReader(body);
        T.Decode(ref r, ref value);
        r.EnsureEnd();
        return ref value;
    }

    private static class Holder<T> where T : struct
    {
        [ThreadStatic] public static T Value;
    }
}
