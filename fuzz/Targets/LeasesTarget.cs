using System.Text;
using VirtNetworkd.Errors;
using VirtNetworkd.NetworkDriver.Backend.Dnsmasq;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.Fuzz;

/// <summary>
/// Target 6b: the leases status file (<c>BRIDGE.status</c>), which the daemon reads for
/// virNetworkGetDHCPLeases and the leases helper rewrites on every DHCP event. Byte 0 picks the
/// MAC filter (bit 0) and the helper's action (bits 1–2: add, old, del, init); the rest is the file.
/// Oracle: the daemon's reader fails only as <see cref="LibvirtError"/>; the JSON parser only as
/// <see cref="LeaseJsonException"/>, and what parses prints as text that parses back to the same
/// text; the helper never throws, and the file it writes is such a fixed point and is read by the
/// daemon's reader without an error.
/// </summary>
public sealed class LeasesTarget : FuzzTarget
{
    public override string Name => "leases";
    public override string Summary => "BRIDGE.status: daemon reader (LibvirtError only), JSON print/parse fixed point, leases helper add/old/del/init never throws and writes a file the reader takes";

    private static readonly NetworkDef Def = NetworkXml.Parse(
        "<network><name>f</name><bridge name='virbr9'/><ip address='192.168.122.1' netmask='255.255.255.0'/><ip family='ipv6' address='2001:db8::1' prefix='64'/></network>");

    private static readonly string[] Actions = ["add", "old", "del", "init"];

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1) return;
        byte mode = input[0];
        var file = input[1..];
        string? mac = (mode & 1) != 0 ? "52:54:00:AA:BB:CC" : null;
        try
        {
            LeaseStatusFile.Parse(file, "/f", Def, mac, 1_700_000_000, needResults: (mode & 16) == 0);
        }
        catch (LibvirtError)
        {
        }

        try
        {
            string text = LeaseJsonText.Format(LeaseJsonText.Parse(file));
            FixedPoint(text, "the file");
        }
        catch (LeaseJsonException)
        {
        }

        string action = Actions[(mode >> 1) & 3];
        bool v6 = (mode & 8) != 0;
        var env = new Dictionary<string, string> { ["DNSMASQ_INTERFACE"] = "virbr9", ["DNSMASQ_LEASE_EXPIRES"] = "1700000000" };
        if (v6)
        {
            env["DNSMASQ_IAID"] = "7";
            env["DNSMASQ_MAC"] = "52:54:00:aa:bb:cc";
        }
        var request = LeasesHelperRun.Prepare(new LeasesHelperInput([action, "52:54:00:aa:bb:cc", v6 ? "2001:db8::10" : "192.168.122.10"], env.GetValueOrDefault), "h", out _)
            ?? throw new FuzzFinding("the helper refused a valid command line");
        var outcome = LeasesHelperRun.Apply(request, file, "/f");
        if (outcome.NewContent is { } written)
        {
            FixedPoint(written, "the helper's output");
            try
            {
                LeaseStatusFile.Parse(Encoding.UTF8.GetBytes(written), "/f", Def, null, 1_700_000_000);
            }
            catch (LibvirtError e) when (e.Message.Contains("without", StringComparison.Ordinal))
            {
                // leases other tools wrote may lack what the daemon needs (libvirt reports them the same way)
            }
        }
    }

    private static void FixedPoint(string text, string what)
    {
        string again;
        try
        {
            again = LeaseJsonText.Format(LeaseJsonText.Parse(Encoding.UTF8.GetBytes(text)));
        }
        catch (LeaseJsonException e)
        {
            throw new FuzzFinding($"{what} prints as text that does not parse ({e.Message}):\n{text}", e);
        }
        if (again != text) throw new FuzzFinding($"{what} is not a print/parse fixed point:\n{text}\n---\n{again}");
    }

    public override IEnumerable<(string Name, byte[] Data)> Seeds(SeedSources sources)
    {
        if (Program.FindUp("tests/NetworkDriver.Tests/Backend/Dnsmasq/Golden") is { } golden)
            foreach (var file in Directory.GetFiles(golden, "*.status").Order(StringComparer.Ordinal))
                for (byte mode = 0; mode < 16; mode += 5)
                    yield return ($"{Path.GetFileNameWithoutExtension(file)}-{mode}", [mode, .. File.ReadAllBytes(file)]);
        yield return ("own-mixed", Prefix([1], "[{\"iaid\":\"5\",\"ip-address\":\"2001:db8::5\",\"mac-address\":\"52:54:00:aa:bb:cc\",\"expiry-time\":0,\"x\":[1.5,NaN,{\"\\ud800\":null}]}]"));
    }

    public override IEnumerable<byte[]> Dictionary()
    {
        foreach (var t in new[] { "\"ip-address\"", "\"mac-address\"", "\"hostname\"", "\"client-id\"", "\"expiry-time\"", "\"iaid\"", "\"server-duid\"",
                                  "[", "]", "{", "}", ":", ",", "\"", "\\u", "\\ud800", "NaN", "Infinity", "-0", "1e5", "true", "null", "2001:db8::", "192.168.122.", "52:54:00:" })
            yield return Utf8(t);
    }
}
