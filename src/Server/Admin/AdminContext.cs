using VirtNetworkd.Server.Host;
using VirtNetworkd.Server.Host.Logging;
using VirtNetworkd.Server.Rpc;

namespace VirtNetworkd.Server.Admin;

/// <summary>What the admin program acts on (libvirt's virNetDaemon): the RPC server with its two
/// named servers, the idle shutdown that CONNECT_SET_DAEMON_TIMEOUT changes, and the logging the
/// logging procedures read and change (the process's own unless given).</summary>
public sealed record AdminContext(RpcServer Server, IdleShutdown Idle, LogRuntime? Logging = null);
