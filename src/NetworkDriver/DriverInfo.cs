namespace VirtNetworkd.NetworkDriver;

/// <summary>Identity of the driver as libvirt clients see it.</summary>
public static class DriverInfo
{
    /// <summary>The libvirt release whose behaviour we implement (virConnectGetLibVersion).</summary>
    public const ulong LibVersion = 10_008_000;
    public const string LibVersionString = "10.8.0";
}
