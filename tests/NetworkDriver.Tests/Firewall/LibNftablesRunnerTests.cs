using VirtNetworkd.NetworkDriver.Backend.Firewall;

namespace VirtNetworkd.NetworkDriver.Tests.Firewall;

/// <summary>The nft command lines the firewall code runs, as one libnftables command; the rest goes to a process.</summary>
[TestFixture]
public sealed class LibNftablesRunnerTests
{
    [Test]
    public void TheCommandLinesTheFirewallCodeUsesBecomeOneCommand()
    {
        Assert.That(LibNftablesRunner.TryCommand(["--echo", "--handle", "-f", "-"], "add rule ip t c accept\n", out uint flags, out string cmd), Is.True);
        Assert.That((flags, cmd), Is.EqualTo(((uint)((1 << 5) | (1 << 3)), "add rule ip t c accept\n")));
        Assert.That(LibNftablesRunner.TryCommand(["-a", "list", "table", "ip", "libvirt_network"], null, out flags, out cmd), Is.True);
        Assert.That((flags, cmd), Is.EqualTo((8u, "list table ip libvirt_network")));
        Assert.That(LibNftablesRunner.TryCommand(["-j", "list", "ruleset"], null, out flags, out cmd), Is.True);
        Assert.That((flags, cmd), Is.EqualTo((16u, "list ruleset")));
    }

    [Test]
    public void WhatItDoesNotKnowIsLeftToTheProcess()
    {
        Assert.That(LibNftablesRunner.TryCommand(["-f", "/etc/nftables.conf"], null, out _, out _), Is.False);
        Assert.That(LibNftablesRunner.TryCommand(["--check", "-f", "-"], "x", out _, out _), Is.False);
        Assert.That(LibNftablesRunner.TryCommand(["list", "ruleset"], "stdin too", out _, out _), Is.False);
        var recorder = new RecordingFirewallRunner();
        new LibNftablesRunner(recorder).Run("iptables-restore", ["--noflush", "-w"], "*filter\nCOMMIT\n");
        Assert.That(recorder.Runs.Single().Program, Is.EqualTo("iptables-restore"));
    }
}
