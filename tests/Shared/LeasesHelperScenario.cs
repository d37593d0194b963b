namespace VirtNetworkd.Tests.Shared;

/// <summary>
/// One call of the leases helper as dnsmasq makes it: argv after the program name, the
/// environment (DNSMASQ_INTERFACE is always virbr9 unless given), and optionally the status file's
/// bytes to put in place first (a file someone else wrote).
/// </summary>
public sealed record LeasesHelperStep(string Name, string[] Args, (string Key, string Value)[] Env, byte[]? FileBefore = null)
{
    public const string Bridge = "virbr9";

    /// <summary>The environment of the call: DNSMASQ_INTERFACE added unless the step names the bridge
    /// itself, or says NO_INTERFACE (then neither variable is set).</summary>
    public IEnumerable<(string Key, string Value)> FullEnv() =>
        Env.Any(e => e.Key == "NO_INTERFACE") ? Env.Where(e => e.Key != "NO_INTERFACE")
        : Env.Any(e => e.Key is "DNSMASQ_INTERFACE" or "VIR_BRIDGE_NAME") ? Env : Env.Append(("DNSMASQ_INTERFACE", Bridge));

    public override string ToString() => Name;
}

/// <summary>
/// The calls the golden files of tests/NetworkDriver.Tests/Backend/Dnsmasq/Golden were made from
/// with libvirt 11.3's own libvirt_leaseshelper (json-c; the format 10.8 writes), in order, each on
/// the file the previous one left. LeasesHelperDifferentialTests runs them against that helper
/// and ours, and writes the golden files again when VN_WRITE_LEASES_GOLDEN names a folder.
/// No step reads back a non-ASCII string: json-c 0.18's strict tokener refuses every byte over
/// 0x7f (json-c issue #892), so libvirt 11.3 wipes a status file holding one at the next event;
/// we read such a file (as json-c 0.16 and 0.17 do), see LeasesHelperRunTests.
/// </summary>
public static class LeasesHelperScenario
{
    private static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private const string Duid = "00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01";

    public static readonly LeasesHelperStep[] Steps =
    [
        new("add4", ["add", "52:54:00:aa:bb:cc", "192.168.122.10"],
            [("DNSMASQ_LEASE_EXPIRES", "1700000000"), ("DNSMASQ_CLIENT_ID", "01:52:54:00:aa:bb:cc"), ("DNSMASQ_SUPPLIED_HOSTNAME", "guest1")]),
        new("add4-hostname-argument", ["add", "52:54:00:aa:bb:dd", "192.168.122.11", "hostb"],
            [("DNSMASQ_LEASE_EXPIRES", " 1700000100 \n"), ("DNSMASQ_SUPPLIED_HOSTNAME", "ignored")]),
        new("old4-old-hostname", ["old", "52:54:00:aa:bb:cc", "192.168.122.10"],
            [("DNSMASQ_LEASE_EXPIRES", "1700000200"), ("DNSMASQ_OLD_HOSTNAME", "guest1-old")]),
        new("add6", ["add", "00:04:aa:bb:cc:dd:ee:ff", "2001:db8:ca2:2::10"],
            [("DNSMASQ_IAID", "1234567"), ("DNSMASQ_MAC", "52:54:00:aa:bb:cc"), ("DNSMASQ_SERVER_DUID", Duid),
             ("DNSMASQ_LEASE_EXPIRES", "1700003600"), ("DNSMASQ_SUPPLIED_HOSTNAME", "guest1")]),
        new("init", ["init"], []),
        new("del4", ["del", "52:54:00:aa:bb:dd", "192.168.122.11"], []),
        new("add6-without-duid", ["add", "00:04:11:22", "2001:db8:ca2:2::11"],
            [("DNSMASQ_IAID", "7"), ("DNSMASQ_MAC", "52:54:00:aa:bb:ee"), ("DNSMASQ_LEASE_EXPIRES", "0")]),
        new("add6-without-mac", ["add", "00:04:11:33", "2001:db8:ca2:2::12"],
            [("DNSMASQ_IAID", "8"), ("DNSMASQ_LEASE_EXPIRES", "1700000000")]),
        new("init-duid-from-file", ["init"], []),
        new("add4-escapes", ["add", "52:54:00:aa:bb:ff", "192.168.122.12", "a\"b\\c/d\te\u0001f\u007f"],
            [("DNSMASQ_LEASE_EXPIRES", "-5"), ("VIR_BRIDGE_NAME", LeasesHelperStep.Bridge)]),
        new("del-missing", ["del", "52:54:00:00:00:00", "192.168.122.99"], []),
        new("del6", ["del", "00:04:aa:bb:cc:dd:ee:ff", "2001:db8:ca2:2::10"], [("DNSMASQ_IAID", "1234567")]),
        new("bad-expiry", ["add", "52:54:00:aa:bb:01", "192.168.122.13"], [("DNSMASQ_LEASE_EXPIRES", "12x")]),
        new("del-rest-1", ["del", "52:54:00:aa:bb:cc", "192.168.122.10"], []),
        new("del-rest-2", ["del", "x", "192.168.122.12"], []),
        new("del-rest-3", ["del", "x", "2001:db8:ca2:2::11"], []),
        new("init-empty", ["init"], []),
        // files written by others
        new("legacy-v6-without-duid-init", ["init"], [("DNSMASQ_SERVER_DUID", Duid)],
            B("[{\"iaid\":\"5\",\"ip-address\":\"2001:db8::5\",\"mac-address\":\"52:54:00:00:00:05\",\"expiry-time\":1700000000,\"extra\":[1,{\"a\":null},true,1.50,-0]},{\"ip-address\":\"10.0.0.5\",\"mac-address\":\"52:54:00:00:00:06\",\"expiry-time\":0}]")),
        new("legacy-v6-without-duid-add", ["add", "52:54:00:00:00:07", "10.0.0.7"], [("DNSMASQ_SERVER_DUID", Duid)]),
        new("unknown-members-kept", ["old", "52:54:00:00:00:07", "10.0.0.7"], [("DNSMASQ_LEASE_EXPIRES", "1700000000")],
            B("  [ {\"ip-address\" : \"10.0.0.8\", \"expiry-time\": 5, \"z\": {}, \"a\": [], \"k\": 1, \"k\": \"dup\", \"u\": \"\\u00e9\\ud83d\\ude00\\/\"} ]\n")),
        new("garbage-is-rewritten", ["add", "52:54:00:00:00:09", "10.0.0.9"], [], B("this is not json")),
        new("trailing-garbage-is-rewritten", ["del", "x", "10.0.0.1"], [], B("[] x")),
        new("not-an-array-fails", ["add", "52:54:00:00:00:0a", "10.0.0.10"], [], B("{\"ip-address\":\"10.0.0.1\"}")),
        new("lease-without-expiry-fails", ["del", "x", "10.0.0.1"], [], B("[{\"ip-address\":\"10.0.0.2\"}]")),
        new("string-expiry-fails", ["init"], [], B("[{\"ip-address\":\"10.0.0.2\",\"expiry-time\":\"5\"}]")),
        new("too-deep-is-rewritten", ["del", "x", "10.0.0.1"], [], B(new string('[', 33) + new string(']', 33))),
        new("deep-enough-is-kept", ["init"], [],
            B("[{\"ip-address\":\"10.0.0.3\",\"expiry-time\":1,\"d\":" + new string('[', 30) + new string(']', 30) + "}]")),
        new("deep-enough-rewrite", ["del", "x", "10.0.0.1"], []),
        new("unsupported-action", ["bogus", "a", "b"], []),
        new("wrong-argc", ["add", "a"], []),
        new("no-interface", ["init"], [("NO_INTERFACE", "1")]),
    ];
}
