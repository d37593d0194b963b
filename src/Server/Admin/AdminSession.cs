namespace VirtNetworkd.Server.Admin;

/// <summary>What the admin program keeps per client (libvirt's daemonAdmClientPrivate holds
/// nothing but the daemon): whether CONNECT_OPEN was called, for the logs.</summary>
public sealed class AdminSession
{
    public bool Opened { get; set; }
}
