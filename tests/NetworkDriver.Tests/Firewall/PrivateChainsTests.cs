using VirtNetworkd.NetworkDriver.Backend;
using VirtNetworkd.NetworkDriver.Backend.Firewall;

namespace VirtNetworkd.NetworkDriver.Tests.Firewall;

/// <summary>What the nft chain queries' answers (`list chains`, `list chain … forward`) say is missing.</summary>
[TestFixture]
public sealed class PrivateChainsTests
{
    private const string Chains = """
        table ip filter {
        	chain guest_output {
        	}
        }
        table ip libvirt_network {
        	chain forward {
        		type filter hook forward priority filter; policy accept;
        	}
        	chain guest_output {
        	}
        	chain guest_input {
        	}
        	chain guest_cross {
        	}
        	chain guest_nat {
        		type nat hook postrouting priority srcnat; policy accept;
        	}
        }
        """;

    private const string Forward = """
        table ip libvirt_network {
        	chain forward {
        		type filter hook forward priority filter; policy accept;
        		counter packets 0 bytes 0 jump guest_cross
        		counter packets 0 bytes 0 jump guest_input
        		counter packets 0 bytes 0 jump guest_output
        	}
        }
        """;

    private static string[] Create(params string?[] outputs) =>
        PrivateChains.Create(FirewallBackendType.Nftables, FirewallLayer.Ipv4, outputs).Select(a => string.Join(' ', a.Args)).ToArray();

    [Test]
    public void EverythingInPlaceNeedsNothing() => Assert.That(Create(Chains, Forward), Is.Empty);

    [Test]
    public void MissingJumpsAreInsertedAndChainsOfOtherTablesDoNotCount()
    {
        Assert.That(Create(Chains, ""), Is.EqualTo(new[]
        {
            "insert rule ip libvirt_network forward counter jump guest_output",
            "insert rule ip libvirt_network forward counter jump guest_input",
            "insert rule ip libvirt_network forward counter jump guest_cross",
        }));
        string onlyOther = "table ip filter {\n\tchain guest_output {\n\t}\n}\n";
        Assert.That(Create(onlyOther, ""), Has.Length.EqualTo(9), "add table, 5 chains, 3 jumps");
    }
}
