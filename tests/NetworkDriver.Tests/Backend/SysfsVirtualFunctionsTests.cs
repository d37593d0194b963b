using VirtNetworkd.NetworkDriver.Driver;
using VirtNetworkd.NetworkDriver.Xml;

namespace VirtNetworkd.NetworkDriver.Tests.Backend;

/// <summary>
/// virNetDevGetVirtualFunctions over a fake sysfs: a class/net tree whose PF device has virtfnN
/// links into a devices tree, the way the kernel lays out an SR-IOV NIC.
/// </summary>
[TestFixture]
public sealed class SysfsVirtualFunctionsTests
{
    private string _root = "";
    private string Net => Path.Combine(_root, "class/net");

    [SetUp]
    public void CreateTree()
    {
        _root = Directory.CreateTempSubdirectory("vnd-sysfs-").FullName;
        Directory.CreateDirectory(Net);
    }

    [TearDown]
    public void RemoveTree() => Directory.Delete(_root, recursive: true);

    /// <summary>class/net/PF/device → devices/PCI of the PF; with its VFs' devices and their netdevs.</summary>
    private string AddPf(string pf, string pfPci, params (string Pci, string[] Netdevs)[] vfs)
    {
        string pfDevice = Path.Combine(_root, "devices", pfPci);
        Directory.CreateDirectory(pfDevice);
        Directory.CreateDirectory(Path.Combine(Net, pf));
        File.CreateSymbolicLink(Path.Combine(Net, pf, "device"), pfDevice);
        for (int i = 0; i < vfs.Length; i++)
        {
            string vfDevice = Path.Combine(_root, "devices", vfs[i].Pci);
            Directory.CreateDirectory(vfDevice);
            File.CreateSymbolicLink(Path.Combine(pfDevice, "virtfn" + i), vfDevice);
            foreach (string n in vfs[i].Netdevs)
            {
                Directory.CreateDirectory(Path.Combine(vfDevice, "net", n));
                Directory.CreateDirectory(Path.Combine(Net, n));
            }
        }
        return pfDevice;
    }

    [Test]
    public void VirtualFunctionsInIndexOrderWithTheirNetdevsAndUnboundOnesWithout()
    {
        // the middle VF has no net/ folder: not bound to a network driver
        AddPf("enp3s0", "0000:03:00.0",
            ("0000:03:10.0", ["enp3s0v0"]), ("0000:03:10.2", []), ("0000:03:10.4", ["enp3s0v2"]));
        var vfs = SysfsVirtualFunctions.Read("enp3s0", Net);
        Assert.That(vfs, Is.EqualTo(new[]
        {
            new VirtualFunction(new PciAddress(0, 3, 0x10, 0), "enp3s0v0"),
            new VirtualFunction(new PciAddress(0, 3, 0x10, 2), null),
            new VirtualFunction(new PciAddress(0, 3, 0x10, 4), "enp3s0v2"),
        }));
    }

    [Test]
    public void CountingStopsAtTheFirstMissingVirtfn()
    {
        string pf = AddPf("eth0", "0000:05:00.0", ("0000:05:00.1", ["eth0v0"]));
        Directory.CreateDirectory(Path.Combine(_root, "devices/0000:05:00.3"));
        File.CreateSymbolicLink(Path.Combine(pf, "virtfn2"), Path.Combine(_root, "devices/0000:05:00.3"));
        Assert.That(SysfsVirtualFunctions.Read("eth0", Net)!.Select(v => v.IfName), Is.EqualTo(new[] { "eth0v0" }));
    }

    [Test]
    public void APfThatDoesNotExistOrHasNoVfsHasNone()
    {
        Assert.That(SysfsVirtualFunctions.Read("nosuchpf0", Net), Is.Empty, "libvirt then reports no usable VFs");
        AddPf("eth1", "0000:06:00.0");
        Assert.That(SysfsVirtualFunctions.Read("eth1", Net), Is.Empty);
    }

    [Test]
    public void TheNetdevWithThePfsPhysPortIdIsChosen()
    {
        AddPf("ens1f0", "0000:07:00.0", ("0000:07:02.0", ["repA", "repB"]));
        File.WriteAllText(Path.Combine(Net, "ens1f0/phys_port_id"), "abc\n");
        File.WriteAllText(Path.Combine(Net, "repA/phys_port_id"), "xyz\n");
        File.WriteAllText(Path.Combine(Net, "repB/phys_port_id"), "abc\n");
        Assert.That(SysfsVirtualFunctions.Read("ens1f0", Net)![0].IfName, Is.EqualTo("repB"));

        File.WriteAllText(Path.Combine(Net, "repB/phys_port_id"), "xyz\n");
        string? first = Directory.EnumerateDirectories(Path.Combine(_root, "devices/0000:07:02.0/net")).Select(Path.GetFileName).First();
        Assert.That(SysfsVirtualFunctions.Read("ens1f0", Net)![0].IfName, Is.EqualTo(first), "none matches: the first one, as libvirt falls back");
    }

    [Test]
    public void WithoutAPhysPortIdAPfLikePhysPortNameIsChosen()
    {
        AddPf("ens2f0", "0000:08:00.0", ("0000:08:02.0", ["pf0vf0rep", "vfnet0"]));
        File.WriteAllText(Path.Combine(Net, "pf0vf0rep/phys_port_name"), "pf0vf0\n");
        File.WriteAllText(Path.Combine(Net, "vfnet0/phys_port_name"), "p0\n");
        Assert.That(SysfsVirtualFunctions.Read("ens2f0", Net)![0].IfName, Is.EqualTo("vfnet0"));
    }

    [Test]
    public void WhatLibvirtFailsOnIsNull()
    {
        string pf = AddPf("eth2", "0000:09:00.0", ("0000:09:00.1", ["eth2v0"]));
        File.WriteAllText(Path.Combine(pf, "sriov_totalvfs"), "many\n");
        Assert.That(SysfsVirtualFunctions.Read("eth2", Net), Is.Null, "an unreadable sriov_totalvfs");
        File.WriteAllText(Path.Combine(pf, "sriov_totalvfs"), "8\n");
        Assert.That(SysfsVirtualFunctions.Read("eth2", Net), Has.Count.EqualTo(1));

        Directory.Delete(Path.Combine(_root, "devices/0000:09:00.1/net/eth2v0"));
        Assert.That(SysfsVirtualFunctions.Read("eth2", Net), Is.Null, "a VF whose net/ is empty");

        string odd = Path.Combine(_root, "devices/notapci");
        Directory.CreateDirectory(odd);
        AddPf("eth3", "0000:0a:00.0");
        File.CreateSymbolicLink(Path.Combine(_root, "devices/0000:0a:00.0/virtfn0"), odd);
        Assert.That(SysfsVirtualFunctions.Read("eth3", Net), Is.Null, "a virtfn link that is no PCI address");
    }
}
