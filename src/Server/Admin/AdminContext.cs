using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>What the admin program acts on (libvirt's virNetDaemon): the RPC server with its two
/// named servers, and the idle shutdown that CONNECT_SET_DAEMON_TIMEOUT changes.</summary>
public sealed record AdminContext(RpcServer Server, IdleShutdown Idle);
