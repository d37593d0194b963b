using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace VirtNetworkd.NetworkDriver.Backend.Netlink;

/// <summary>
/// Deletes a device and returns as soon as it is gone from the namespace, not when the kernel
/// acknowledges the RTM_DELLINK. For a bridge the kernel (6.x) works in two parts: under the rtnl
/// lock it unlists the device, waits for an RCU barrier (br_multicast_dev_del), sends the
/// RTM_DELLINK notification, removes the sysfs entry and releases the lock; then, in
/// netdev_run_todo, it waits for another RCU barrier before it frees the device and answers.
/// That second wait (15–25 ms on the loaded 2-core bench machine, perf sched_switch stacks)
/// changes nothing anyone can see, so the request runs on a thread of its own and the caller
/// returns when it has seen the notification and an RTM_GETLINK of the index, which the kernel
/// answers only once the rtnl lock is free, says ENODEV.
/// </summary>
public static class LinkDeletion
{
    /// <summary>
    /// Deletes device <paramref name="index"/> and waits until it is gone. <paramref name="open"/>
    /// makes a socket in the device's namespace (0: plain; other values: the notification groups
    /// it is subscribed to); <paramref name="client"/> asks the confirming RTM_GETLINK. Throws what
    /// the kernel refused the deletion with; <paramref name="log"/> gets a refusal that came after
    /// the device was already gone (none is expected).
    /// </summary>
    public static void Delete(Func<uint, NetlinkSocket> open, RtNetlinkClient client, int index, Action<string> log)
    {
        using var pending = Begin(open, client, index, log);
        pending.Wait();
    }

    /// <summary>As <see cref="Delete"/>, the caller doing other work before <see cref="Pending.Wait"/>.</summary>
    public static Pending Begin(Func<uint, NetlinkSocket> open, RtNetlinkClient client, int index, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(log);
        NetlinkSocket monitor = open(Nl.GroupLink); // subscribed before the request goes out
        Request request;
        try
        {
            request = new Request(open(0), index, log);
        }
        catch
        {
            monitor.Dispose();
            throw;
        }
        return new Pending(monitor, request, client, index);
    }

    /// <summary>A deletion under way.</summary>
    public sealed class Pending : IDisposable
    {
        private readonly NetlinkSocket _monitor;
        private readonly Request _request;
        private readonly RtNetlinkClient _client;
        private readonly int _index;
        private bool _disposed;

        internal Pending(NetlinkSocket monitor, Request request, RtNetlinkClient client, int index)
        {
            (_monitor, _request, _client, _index) = (monitor, request, client, index);
        }

        /// <summary>Returns when the device is gone; throws what the kernel refused the deletion with.</summary>
        public void Wait()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Exception? failure = _request.WaitGoneOrDone(_monitor);
            Dispose();
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            // the notification is sent before the sysfs entry goes and the rtnl lock is released; this waits for both
            if (_client.GetLink(_index) is not null)
                throw new NetlinkErrorException(NetlinkErrorException.EExist, $"delete link {_index}: still there after its RTM_DELLINK");
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _request.Leave();
            _monitor.Dispose();
        }
    }

    /// <summary>The RTM_DELLINK on its thread, and an eventfd that says when it is answered. Whoever of
    /// the two sides (caller, thread) finishes last closes the eventfd.</summary>
    internal sealed unsafe class Request
    {
        private readonly Lock _gate = new();
        private readonly NetlinkSocket _socket;
        private readonly int _index;
        private readonly Action<string> _log;
        private readonly int _doneFd;
        private Exception? _failure;
        private bool _answered, _callerLeft;

        /// <summary>Sends the request on <paramref name="socket"/> (which it then owns) on a thread of its own.</summary>
        public Request(NetlinkSocket socket, int index, Action<string> log)
        {
            (_socket, _index, _log) = (socket, index, log);
            _doneFd = PosixIo.EventFd(0, PosixIo.EfdCloexec);
            if (_doneFd < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                socket.Dispose();
                throw new NetlinkErrorException(errno, "eventfd");
            }
            new Thread(Run) { IsBackground = true, Name = $"delete link {index}" }.Start();
        }

        private void Run()
        {
            Exception? failure = null;
            try
            {
                _socket.Ack(RtnlRequest.DeleteLink(_socket.NextSequence(), _index), $"delete link {_index}");
            }
#pragma warning disable CA1031 // handed to the caller, or logged when the caller is gone
            catch (Exception e) { failure = e; }
#pragma warning restore CA1031
            finally { _socket.Dispose(); }
            lock (_gate)
            {
                _answered = true;
                _failure = failure;
                if (_callerLeft)
                {
                    _ = PosixIo.Close(_doneFd);
                    if (failure is not null) _log($"deleting link {_index} failed after it was gone: {failure.Message}");
                    return;
                }
                ulong one = 1;
                _ = PosixIo.Write(_doneFd, &one, sizeof(ulong));
            }
        }

        /// <summary>Waits for the device's RTM_DELLINK notification or the request's answer; the
        /// refusal, if the request was refused before the device went.</summary>
        public Exception? WaitGoneOrDone(NetlinkSocket monitor)
        {
            Span<byte> buffer = stackalloc byte[8192];
            bool monitoring = true;
            while (true)
            {
                int ready = PosixIo.WaitFd(_doneFd, monitoring ? monitor.Descriptor : -1, -1);
                if (ready < 0) return new NetlinkErrorException(Marshal.GetLastPInvokeError(), "poll");
                if (ready == _doneFd)
                {
                    lock (_gate) return _failure;
                }
                int n = monitor.ReceiveDatagram(buffer);
                if (n == -11 /* EAGAIN */ || n == -4) continue;
                if (n < 0)
                {
                    monitoring = false; // ENOBUFS (notifications lost): the answer will do
                    continue;
                }
                if (Announces(buffer[..n], _index)) return null;
            }
        }

        /// <summary>The caller is done waiting (called once).</summary>
        public void Leave()
        {
            lock (_gate)
            {
                _callerLeft = true;
                if (_answered) _ = PosixIo.Close(_doneFd);
            }
        }
    }

    /// <summary>Whether <paramref name="datagram"/> holds the RTM_DELLINK of <paramref name="index"/>.</summary>
    public static bool Announces(ReadOnlySpan<byte> datagram, int index)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var m))
        {
            if (m.Type == Nl.DelLink && m.Payload.Length >= Nl.IfInfoSize && BinaryPrimitives.ReadInt32LittleEndian(m.Payload[4..]) == index)
                return true;
        }
        return false;
    }
}
