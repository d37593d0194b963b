using System.Globalization;
using VirtNetworkd.Protocol.Framing;
using VirtNetworkd.Protocol.Programs;

namespace VirtNetworkd.Protocol.Tests;

/// <summary>
/// A packet captured from real libvirt clients talking to the real libvirtd (see
/// Golden/README.md and tools/capture/): the whole packet, length word included.
/// </summary>
public sealed class GoldenPacket
{
    private GoldenPacket(string name, byte[] bytes)
    {
        Name = name;
        Bytes = bytes;
        Header = PacketFraming.ReadHeader(bytes);
    }

    public string Name { get; }
    public byte[] Bytes { get; }
    public PacketHeader Header { get; }
    public byte[] Body => Bytes[PacketFraming.MinPacketSize..];

    public override string ToString() => Name;

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static IEnumerable<GoldenPacket> All() =>
        Directory.EnumerateFiles(Folder, "*.hex").Order(StringComparer.Ordinal).Select(f => Load(Path.GetFileNameWithoutExtension(f)));

    public static GoldenPacket Load(string name)
    {
        var bytes = new List<byte>();
        foreach (var line in File.ReadLines(Path.Combine(Folder, name + ".hex")))
        {
            if (line.StartsWith('#') || line.Length == 0) continue;
            foreach (var h in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                bytes.Add(byte.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return new GoldenPacket(name, bytes.ToArray());
    }

    /// <summary>The XDR type of the body, as the procedure tables say; null for an empty body.</summary>
    public Type? BodyType
    {
        get
        {
            var h = Header;
            ProcedureTable table = h.Program switch
            {
                Remote.RemoteProgram.Number => Remote.RemoteProgram.Procedures,
                Keepalive.KeepaliveProgram.Number => Keepalive.KeepaliveProgram.Procedures,
                Admin.AdminProgram.Number => Admin.AdminProgram.Procedures,
                _ => throw new InvalidOperationException($"unknown program 0x{h.Program:x8}"),
            };
            if (!table.TryGet(h.Procedure, out var proc)) throw new InvalidOperationException($"unknown procedure {h.Procedure}");
            if (h.Type == PacketType.Reply && h.Status == PacketStatus.Error) return typeof(Remote.Error);
            return h.Type switch
            {
                PacketType.Call => proc.ArgsType,
                PacketType.Reply => proc.RetType,
                PacketType.Message => h.Program == Keepalive.KeepaliveProgram.Number ? null : proc.MsgType,
                _ => throw new InvalidOperationException($"unexpected packet type {h.Type}"),
            };
        }
    }
}
