using VirtNetworkd.Errors;

namespace VirtNetworkd.Server.Rpc;

/// <summary>The RPC layer's own errors, worded as libvirt's src/rpc words them.</summary>
public static class RpcErrors
{
    public static LibvirtError Rpc(string detail) => new(VirErrorCode.Rpc, VirErrorDomain.Rpc, detail);

    public static LibvirtError UnknownProgram(uint program, uint version) =>
        Rpc($"Cannot find program {(int)program} version {(int)version}");

    public static LibvirtError UnexpectedType(int type) => Rpc($"Unexpected message type {(uint)type}");
    public static LibvirtError UnexpectedStatus(int status) => Rpc($"Unexpected message status {(uint)status}");
    public static LibvirtError UnknownProcedure(int procedure) => Rpc($"unknown procedure: {procedure}");
    public static LibvirtError DecodeFailed() => Rpc("Unable to decode message payload");
    public static LibvirtError EncodeFailed() => Rpc("Unable to encode message payload");
    public static LibvirtError AuthenticationRequired() => Rpc("authentication required");

    public static LibvirtError Internal(string detail, VirErrorDomain domain = VirErrorDomain.Rpc) =>
        new(VirErrorCode.InternalError, domain, detail);
}
