using VirtNetworkd.Protocol.Remote;
using VirtNetworkd.Protocol.Xdr;
using Proc = VirtNetworkd.Protocol.Remote.Procedure;

namespace VirtNetworkd.LoadGen;

/// <summary>
/// The call a run repeats: its procedure, how its request packet is built (once, at set-up, on
/// the first connection: it may need a call of its own, e.g. a lookup for the network's UUID)
/// and how its first reply is summarised.
/// </summary>
internal sealed class Workload(string label, int procedure, Func<Connection, byte[]> request, Func<byte[], string> describe)
{
    public const string Names = "get_lib_version, num_of_networks, list_all_networks, lookup_by_name:NAME, get_xml_desc:NAME, is_active:NAME";

    public string Label => label;
    public int Procedure => procedure;
    public string ProcedureName => RemoteProgram.Procedures.TryGet(procedure, out var info) ? info.Name : $"procedure {procedure}";

    /// <summary>The request packet with serial 0: the serial is patched per call.</summary>
    public byte[] Request(Connection c) => request(c);

    public string Describe(byte[] body)
    {
        try
        {
            return describe(body);
        }
        catch (XdrDecodeException e)
        {
            throw new LoadGenException($"{label}: the reply does not decode: {e.Message}");
        }
    }

    public static Workload FromProcedure(int proc, string? label = null)
    {
        if (!RemoteProgram.Procedures.TryGet(proc, out var info) || info.ArgsType is not null || info.Stream)
            throw new ArgumentException($"--proc {proc}: not a remote procedure without arguments");
        return new Workload(label ?? $"proc {proc}", proc, _ => Program.Request(proc, new XdrVoid()),
            body => proc == (int)Proc.ConnectGetLibVersion && body.Length == 8
                ? FormatLibVersion(XdrCodec.Decode<ConnectGetLibVersionRet>(body).LibVer)
                : $"{body.Length} bytes");
    }

    public static Workload Parse(string spec)
    {
        int colon = spec.IndexOf(':');
        string name = colon < 0 ? spec : spec[..colon];
        string? arg = colon < 0 ? null : spec[(colon + 1)..];
        string Net() => string.IsNullOrEmpty(arg) ? throw new ArgumentException($"--call {name}: a network name is needed ({name}:NAME)") : arg;
        void NoArg()
        {
            if (arg is not null) throw new ArgumentException($"--call {name}: takes no argument");
        }

        switch (name)
        {
            case "get_lib_version":
                NoArg();
                return FromProcedure((int)Proc.ConnectGetLibVersion, spec);
            case "num_of_networks":
                NoArg();
                return Simple(spec, Proc.ConnectNumOfNetworks, new XdrVoid(),
                    body => $"{XdrCodec.Decode<ConnectNumOfNetworksRet>(body).Num} active networks");
            case "list_all_networks":
                NoArg();
                return Simple(spec, Proc.ConnectListAllNetworks, new ConnectListAllNetworksArgs { NeedResults = 1, Flags = 0 },
                    body => $"{XdrCodec.Decode<ConnectListAllNetworksRet>(body).Nets.Length} networks");
            case "lookup_by_name":
                return Simple(spec, Proc.NetworkLookupByName, new NetworkLookupByNameArgs { Name = Net() },
                    body => Format(XdrCodec.Decode<NetworkLookupByNameRet>(body).Net));
            case "get_xml_desc":
                string xmlNet = Net();
                return new Workload(spec, (int)Proc.NetworkGetXmlDesc,
                    c => Program.Request((int)Proc.NetworkGetXmlDesc, new NetworkGetXmlDescArgs { Net = Lookup(c, xmlNet), Flags = 0 }),
                    body => $"{XdrCodec.Decode<NetworkGetXmlDescRet>(body).Xml.Length} characters of XML");
            case "is_active":
                string activeNet = Net();
                return new Workload(spec, (int)Proc.NetworkIsActive,
                    c => Program.Request((int)Proc.NetworkIsActive, new NetworkIsActiveArgs { Net = Lookup(c, activeNet) }),
                    body => $"active {XdrCodec.Decode<NetworkIsActiveRet>(body).Active}");
            default:
                throw new ArgumentException($"--call {spec}: unknown call (known: {Names})");
        }
    }

    private static Workload Simple<T>(string label, Proc proc, T args, Func<byte[], string> describe) where T : IXdrType<T>
        => new(label, (int)proc, _ => Program.Request((int)proc, args), describe);

    private static NonnullNetwork Lookup(Connection c, string name)
    {
        var body = c.CallBlocking((int)Proc.NetworkLookupByName, new NetworkLookupByNameArgs { Name = name }, $"set-up lookup of network '{name}'");
        return XdrCodec.Decode<NetworkLookupByNameRet>(body).Net;
    }

    private static string Format(in NonnullNetwork net) => $"{net.Name} {new Guid(net.Uuid, bigEndian: true)}";

    private static string FormatLibVersion(ulong v) => $"{v / 1_000_000}.{v / 1000 % 1000}.{v % 1000}";
}
