using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Xml;
using VirtNetworkd.NetworkDriver.Xml.Net;

namespace VirtNetworkd.NetworkDriver.Driver;

public sealed partial class NetworkStore
{
    /// <summary>virNetworkObjGetPortStatusDir: STATEDIR/NETWORK/ports.</summary>
    public string PortDir(string network) => Path.Combine(StateDir, network, "ports");

    public string PortFile(string network, Guid port) => Path.Combine(PortDir(network), VirUuid.Format(port) + ".xml");

    /// <summary>virNetworkPortDefSaveStatus.</summary>
    public void SavePort(string network, NetworkPortDef port)
    {
        string uuid = VirUuid.Format(port.Uuid);
        AtomicFile.Write(PortFile(network, port.Uuid), SavedText("net-port-create", uuid, NetworkPortXml.Format(port)));
    }

    public void DeletePort(string network, Guid port) => AtomicFile.Delete(PortFile(network, port));

    /// <summary>virNetworkObjDeleteAllPorts: every UUID.xml in the network's port folder (best effort, as libvirt).</summary>
    public void DeleteAllPorts(string network)
    {
        foreach (string uuid in XmlNames(PortDir(network)))
        {
            try { AtomicFile.Delete(Path.Combine(PortDir(network), uuid + ".xml")); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>virNetworkObjLoadAllPorts: the ports of a network that was running; unparsable files are reported and skipped.</summary>
    public IReadOnlyList<NetworkPortDef> LoadPorts(string network, List<(string File, string Error)> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var ports = new List<NetworkPortDef>();
        foreach (string name in XmlNames(PortDir(network)))
        {
            string file = Path.Combine(PortDir(network), name + ".xml");
            try
            {
                ports.Add(NetworkPortXml.Parse(File.ReadAllText(file)));
            }
            catch (Exception e) when (e is LibvirtError or IOException or UnauthorizedAccessException)
            {
                errors.Add((file, e.Message));
            }
        }
        return ports;
    }
}
