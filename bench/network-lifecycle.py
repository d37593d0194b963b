#!/usr/bin/python3
"""Network start/destroy times of one daemon, through python3-libvirt in this one process.

    bench/network-lifecycle.py --uri URI --socket PATH --start-cmd CMD --stop-cmd CMD
                               [--cycles N] [--count M] [--prefix P] [--json]
                               [--dhcp-cycles D] [--leases L --netns NS]

Phases (each network is NAT, IPv4 only, no DHCP and <dns enable='no'/>, so neither daemon runs
dnsmasq; bridge P0..., subnets 10.77.K.0/24):
  cycle    : one defined network, N times net-start (virNetworkCreate) then net-destroy, each timed
  many     : M defined networks started one after another, each start timed
  restart  : with the M networks running, the daemon is stopped (--stop-cmd, which must leave
             them running, as both daemons do on SIGTERM) and started again (--start-cmd); timed
             from the start command to a connect() on --socket that succeeds ("socket ready") and
             to the first answered call (virConnectListAllNetworks, which also shows all M active)
  teardown : the M networks destroyed one after another, each timed; then undefined
  dhcp     : (--dhcp-cycles D > 0) a NAT network with DHCP and DNS (so the daemon runs dnsmasq),
             bridge P201, 10.78.201.0/24: D times net-start then net-destroy, each timed
  lease    : (--leases L > 0, --netns NS the daemon's network namespace) the DHCP network
             started once; L times a guest namespace with a veth into the bridge runs busybox
             udhcpc (new MAC each time); the DHCP ACK is timestamped by the kernel
             (SO_TIMESTAMPNS on a packet socket in the guest namespace), the client's script
             writes its own clock when called; the leases are polled through
             virNetworkGetDHCPLeases until the MAC shows: latency = first poll that shows it
             minus the ACK (polls about every millisecond: each is one call)
The daemon must be running when this starts; it is running again when this ends.
"""
import argparse
import ctypes
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import libvirt


def xml(prefix: str, k: int) -> str:
    return (f"<network><name>{prefix}{k}</name><forward mode='nat'/>"
            f"<bridge name='{prefix}{k}' stp='on' delay='0'/><dns enable='no'/>"
            f"<ip address='10.77.{k}.1' netmask='255.255.255.0'/></network>")


def dhcp_xml(prefix: str, k: int) -> str:
    return (f"<network><name>{prefix}{k}</name><forward mode='nat'/>"
            f"<bridge name='{prefix}{k}' stp='on' delay='0'/>"
            f"<ip address='10.78.{k}.1' netmask='255.255.255.0'>"
            f"<dhcp><range start='10.78.{k}.2' end='10.78.{k}.254'/></dhcp></ip></network>")


def run(cmd: str) -> None:
    subprocess.run(cmd, shell=True, check=True)


class AckSniffer(threading.Thread):
    """A packet socket in namespace NS on device DEV: the kernel's receive time (CLOCK_REALTIME) of
    the first DHCP ACK (BOOTREPLY to port 68, option 53 = 5) for MAC."""

    def __init__(self, ns: str, dev: str, mac: str):
        super().__init__(daemon=True)
        self.ns, self.dev, self.mac = ns, dev, bytes.fromhex(mac.replace(":", ""))
        self.ack_time = None
        self.ready = threading.Event()
        self.error = None

    def run(self) -> None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            fd = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
            if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET, this thread only
                raise OSError(ctypes.get_errno(), "setns")
            os.close(fd)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
            s.bind((self.dev, 0x0800))
            s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
            s.settimeout(30)
            self.ready.set()
            while True:
                data, anc, _, _ = s.recvmsg(2048, 64)
                if len(data) < 28 + 240 or data[9] != 17 or struct.unpack_from("!H", data, 22)[0] != 68:
                    continue
                bootp = data[28:]
                if bootp[0] != 2 or bootp[28:34] != self.mac:
                    continue
                opts, i = bootp[240:], 0
                while i < len(opts) and opts[i] != 255:
                    if opts[i] == 0:
                        i += 1
                        continue
                    if opts[i] == 53 and opts[i + 2] == 5:
                        for level, kind, value in anc:
                            if level == socket.SOL_SOCKET and kind == 35:
                                sec, nsec = struct.unpack("ll", value[:16])
                                self.ack_time = sec + nsec / 1e9
                        if self.ack_time is None:
                            self.ack_time = time.time()
                        return
                    i += 2 + opts[i + 1]
        except Exception as e:  # reported by the caller
            self.error = e
            self.ready.set()


def lease_latency(conn, net, netns: str, bridge: str, k: int, tmp: str) -> dict:
    """One guest: veth into the bridge, udhcpc, the lease polled; times in ms after the ACK."""
    guest = f"vndg{os.getpid() % 100000}x{k}"
    pid = os.getpid()  # a new MAC in every run: a daemon may keep the leases of an earlier one
    mac = f"52:54:{(pid >> 16) & 0xff:02x}:{(pid >> 8) & 0xff:02x}:{pid & 0xff:02x}:{k % 256:02x}"
    host_end = f"vlh{os.getpid() % 10000}x{k}"
    script = os.path.join(tmp, "udhcpc-script")
    stamp = os.path.join(tmp, f"bound-{k}")
    with open(script, "w") as f:
        f.write(f'#!/bin/sh\n[ "$1" = bound ] && date +%s.%N > {stamp}\nexit 0\n')
    os.chmod(script, 0o755)
    run(f"ip netns add {guest}")
    try:
        run(f"ip -n {guest} link add vg0 address {mac} type veth peer name {host_end} netns {netns}")
        run(f"ip -n {netns} link set {host_end} master {bridge} up && ip -n {guest} link set vg0 up && ip -n {guest} link set lo up")
        sniffer = AckSniffer(guest, "vg0", mac)
        sniffer.start()
        sniffer.ready.wait()
        if sniffer.error:
            raise sniffer.error
        client = subprocess.Popen(["ip", "netns", "exec", guest, "busybox", "udhcpc", "-i", "vg0", "-f", "-q", "-n",
                                   "-t", "10", "-T", "1", "-s", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = None
        deadline = time.time() + 30
        while seen is None and time.time() < deadline:
            if any(lease["mac"] == mac for lease in net.DHCPLeases()):
                seen = time.time()
                break
            time.sleep(0.0005)
        client.wait(timeout=30)
        sniffer.join(timeout=5)
        if seen is None or sniffer.ack_time is None:
            raise RuntimeError(f"no lease for {mac} (ack {sniffer.ack_time}, seen {seen}, udhcpc {client.returncode})")
        bound = float(open(stamp).read()) if os.path.exists(stamp) else None
        return {"visible_after_ack_ms": round((seen - sniffer.ack_time) * 1000, 2),
                "client_script_after_ack_ms": round((bound - sniffer.ack_time) * 1000, 2) if bound else None}
    finally:
        subprocess.run(f"ip netns del {guest}; ip -n {netns} link del {host_end}", shell=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def socket_ready(path: str, deadline: float) -> float:
    while time.perf_counter() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return time.perf_counter()
        except OSError:
            time.sleep(0.002)
        finally:
            s.close()
    raise RuntimeError(f"no socket at {path}")


def summary(ms: list) -> dict:
    s = sorted(ms)
    return {"n": len(s), "median_ms": round(statistics.median(s), 2), "p10_ms": round(s[len(s) // 10], 2),
            "p90_ms": round(s[min(len(s) - 1, len(s) * 9 // 10)], 2), "max_ms": round(s[-1], 2)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--start-cmd", required=True)
    ap.add_argument("--stop-cmd", required=True)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--prefix", default="vbl")
    ap.add_argument("--dhcp-cycles", type=int, default=0)
    ap.add_argument("--leases", type=int, default=0)
    ap.add_argument("--netns", default=None)
    ap.add_argument("--skip-nodhcp", action="store_true", help="only the DHCP phases")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    libvirt.registerErrorHandler(lambda *_: None, None)
    conn = libvirt.open(a.uri)
    out = {}
    names = [f"{a.prefix}{k}" for k in range(a.count)]
    try:
        if a.dhcp_cycles > 0 or a.leases > 0:
            net = conn.networkDefineXML(dhcp_xml(a.prefix, 201))
            starts, destroys = [], []
            for _ in range(a.dhcp_cycles):
                starts.append(timed(net.create))
                destroys.append(timed(net.destroy))
            if a.dhcp_cycles > 0:
                out["dhcp-start"] = summary(starts)
                out["dhcp-destroy"] = summary(destroys)
            if a.leases > 0:
                if not a.netns:
                    raise RuntimeError("--leases needs --netns")
                net.create()
                with tempfile.TemporaryDirectory() as tmp:
                    runs = [lease_latency(conn, net, a.netns, f"{a.prefix}201", k, tmp) for k in range(a.leases)]
                net.destroy()
                out["lease"] = {**summary([r["visible_after_ack_ms"] for r in runs]),
                                "per_lease_ms": [r["visible_after_ack_ms"] for r in runs],
                                "client_script_after_ack_ms": [r["client_script_after_ack_ms"] for r in runs]}
            net.undefine()
        if a.skip_nodhcp:
            raise StopIteration
        net = conn.networkDefineXML(xml(a.prefix, 200))
        starts, destroys = [], []
        for _ in range(a.cycles):
            starts.append(timed(net.create))
            destroys.append(timed(net.destroy))
        net.undefine()
        out["net-start"] = summary(starts)
        out["net-destroy"] = summary(destroys)

        nets = [conn.networkDefineXML(xml(a.prefix, k)) for k in range(a.count)]
        many = [timed(n.create) for n in nets]
        tenth = max(1, a.count // 10)
        out["many-start"] = {"all": summary(many), "first_tenth": summary(many[:tenth]), "last_tenth": summary(many[-tenth:]),
                             "per_start_ms": [round(x, 2) for x in many]}

        conn.close()
        subprocess.run(a.stop_cmd, shell=True, check=True)
        t0 = time.perf_counter()
        subprocess.Popen(a.start_cmd, shell=True, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        ready = socket_ready(a.socket, t0 + 120)
        while True:
            try:
                conn = libvirt.open(a.uri)
                active = conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
                break
            except libvirt.libvirtError:
                if time.perf_counter() > t0 + 120:
                    raise
                time.sleep(0.002)
        answered = time.perf_counter()
        running = sum(1 for n in active if n.name() in names)
        out["restart"] = {"networks_running": running, "socket_ready_ms": round((ready - t0) * 1000, 1),
                          "first_answer_ms": round((answered - t0) * 1000, 1)}
        if running != a.count:
            raise RuntimeError(f"after the restart {running} of {a.count} networks are active")

        nets = [conn.networkLookupByName(n) for n in names]
        out["teardown-destroy"] = summary([timed(n.destroy) for n in nets])
    except StopIteration:
        pass
    finally:
        for n in names + [f"{a.prefix}200", f"{a.prefix}201"]:
            try:
                net = conn.networkLookupByName(n)
                if net.isActive():
                    net.destroy()
                net.undefine()
            except libvirt.libvirtError:
                pass
    if a.json:
        json.dump(out, sys.stdout)
        print()
    else:
        for k, v in out.items():
            print(k, v if k != "many-start" else {x: y for x, y in v.items() if x != "per_start_ms"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
