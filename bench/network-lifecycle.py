#!/usr/bin/python3
"""Network start/destroy times of one daemon, through python3-libvirt in this one process.

    bench/network-lifecycle.py --uri URI --socket PATH --start-cmd CMD --stop-cmd CMD
                               [--cycles N] [--count M] [--prefix P] [--json]

Phases (each network is NAT, IPv4 only, no DHCP and <dns enable='no'/>, so neither daemon runs
dnsmasq; bridge P0..., subnets 10.77.K.0/24):
  cycle    : one defined network, N times net-start (virNetworkCreate) then net-destroy, each timed
  many     : M defined networks started one after another, each start timed
  restart  : with the M networks running, the daemon is stopped (--stop-cmd, which must leave
             them running, as both daemons do on SIGTERM) and started again (--start-cmd); timed
             from the start command to a connect() on --socket that succeeds ("socket ready") and
             to the first answered call (virConnectListAllNetworks, which also shows all M active)
  teardown : the M networks destroyed one after another, each timed; then undefined
The daemon must be running when this starts; it is running again when this ends.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import libvirt


def xml(prefix: str, k: int) -> str:
    return (f"<network><name>{prefix}{k}</name><forward mode='nat'/>"
            f"<bridge name='{prefix}{k}' stp='on' delay='0'/><dns enable='no'/>"
            f"<ip address='10.77.{k}.1' netmask='255.255.255.0'/></network>")


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
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    libvirt.registerErrorHandler(lambda *_: None, None)
    conn = libvirt.open(a.uri)
    out = {}
    names = [f"{a.prefix}{k}" for k in range(a.count)]
    try:
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
    finally:
        for n in names + [f"{a.prefix}200"]:
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
