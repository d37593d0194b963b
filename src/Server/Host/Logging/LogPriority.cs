namespace VirtNetworkd.Server.Host.Logging;

/// <summary>libvirt's log priorities (the numbers used in log_level, log_filters and log_outputs).</summary>
public enum LogPriority
{
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
}
