using VirtNetworkd.Errors;
using VirtNetworkd.Protocol.Admin;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>
/// The admin program (0x06900690 v1) on the admin socket. Its procedures (virt-admin) are a
/// later piece of work: until then each answers that the function is not supported.
/// </summary>
public sealed class AdminDispatcher : IProgramDispatcher
{
    public uint Program => AdminProgram.Number;
    public uint Version => AdminProgram.Version;

    public bool IsKnownProcedure(int procedure) => AdminProgram.Procedures.TryGet(procedure, out _);

    public bool NeedsAuth(int procedure) => true;

    public void Dispatch(IRpcClient client, in PacketHeader header, ReadOnlySpan<byte> body)
    {
        AdminProgram.Procedures.TryGet(header.Procedure, out var info);
        throw new LibvirtError(VirErrorCode.NoSupport, VirErrorDomain.Admin, info.ApiName ?? info.Name);
    }

    public void OnClientClosed(IRpcClient client)
    {
    }
}
