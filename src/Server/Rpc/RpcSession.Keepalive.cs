using KeepaliveProcedure = VirtNetworkd.Protocol.Keepalive.Procedure;

namespace VirtNetworkd.Server.Rpc;

public sealed partial class RpcSession
{
    private long _lastReceived;
    private long _lastPing;
    private int _pingsUnanswered;
    private int _keepaliveInterval;
    private int _keepaliveCount;

    /// <summary>Whether this client asked for keepalive (supports_feature PROGRAM_KEEPALIVE).</summary>
    public bool KeepaliveEnabled => _keepaliveInterval > 0;

    /// <summary>Starts pinging this client when it stays silent, as libvirt does for clients that
    /// negotiated keepalive. A non-positive interval leaves it off.</summary>
    public void StartKeepalive(int intervalSeconds, int count)
    {
        _keepaliveCount = count;
        _lastPing = Environment.TickCount64;
        Volatile.Write(ref _keepaliveInterval, intervalSeconds);
    }

    /// <summary>Called about once a second by the server: ping after <c>interval</c> seconds of
    /// silence, drop after <c>count</c> pings went unanswered.</summary>
    internal void KeepaliveTick(long now)
    {
        int interval = Volatile.Read(ref _keepaliveInterval);
        if (interval <= 0 || _closing) return;
        long ms = interval * 1000L;
        if (now - Volatile.Read(ref _lastReceived) < ms || now - _lastPing < ms) return;
        if (_pingsUnanswered >= _keepaliveCount)
        {
            Log.Warn($"No response from client {Id} after {_keepaliveCount} keepalive messages in {(now - _lastReceived) / 1000} seconds");
            Abort();
            return;
        }
        _pingsUnanswered++;
        _lastPing = now;
        SendKeepalive(KeepaliveProcedure.Ping, flush: true);
    }
}
