using System.Runtime.InteropServices;
using System.Net.Sockets;

namespace VirtNetworkd.Server.Rpc;

/// <summary>The identity of a Unix socket peer, from SO_PEERCRED.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1; // Linux's SOL_SOCKET (SocketOptionLevel.Socket is Windows' 0xffff)
    private const int SoPeerCred = 17;

    public static PeerCredentials Unknown => new(-1, uint.MaxValue, uint.MaxValue);

    public static PeerCredentials Of(Socket socket)
    {
        try
        {
            Span<byte> cred = stackalloc byte[12];
            int n = socket.GetRawSocketOption(SolSocket, SoPeerCred, cred);
            if (n < 12) return Unknown;
            // struct ucred { pid_t pid; uid_t uid; gid_t gid; } in host byte order
            return new PeerCredentials(MemoryMarshal.Read<int>(cred), MemoryMarshal.Read<uint>(cred[4..]), MemoryMarshal.Read<uint>(cred[8..]));
        }
        catch (SocketException)
        {
            return Unknown;
        }
    }
}
