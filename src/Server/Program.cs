using VirtNetworkd.NetworkDriver;

namespace VirtNetworkd.Server;

/// <summary>
/// The virtnetworkd executable. The RPC server and daemon host arrive with the daemon issue;
/// for now it answers --version and --help as virtnetworkd(8) describes.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        foreach (var a in args)
        {
            switch (a)
            {
                case "-V":
                case "--version":
                    Console.WriteLine($"virtnetworkd (libvirt) {DriverInfo.LibVersionString}");
                    return 0;
                case "-h":
                case "--help":
                    Console.WriteLine("Usage:\n  virtnetworkd [options]\n\nOptions:\n  -h | --help            Display program help:\n  -V | --version         Display version information.");
                    return 0;
            }
        }
        Console.WriteLine($"virtnetworkd (libvirt) {DriverInfo.LibVersionString}: the RPC server is not built yet");
        return 0;
    }
}
