#!/usr/bin/python3
"""The machine's floor for a c1 d1 round trip: two processes that do nothing but pass one byte
back and forth over a Unix socket pair, on two different CPUs and on the same CPU.

The caller sends a byte and waits for it in recv. The echo waits either in recv (the cheapest
server there is) or in epoll_wait then recv, as an event-loop server does (libvirtd polls, our
daemon runs epoll). No daemon can answer one-call-at-a-time faster than this, nor spend less CPU
per call than the echo does; on a VM whose idle vCPUs halt, the cross-CPU figures are mostly the
cost of waking the other vCPU, twice per round trip.

    bench/roundtrip-floor.py [--round-trips N] [--json]
"""
import argparse
import json
import os
import select
import socket
import time


def echo(sock: socket.socket, waits_in: str) -> None:
    if waits_in == "epoll":
        sock.setblocking(False)
        ep = select.epoll()
        ep.register(sock.fileno(), select.EPOLLIN)
        while True:
            ep.poll()
            d = sock.recv(1)
            if not d:
                return
            sock.send(d)
    while True:
        d = sock.recv(1)
        if not d:
            return
        sock.send(d)


def process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(cpu_parent: int, cpu_child: int, waits_in: str, n: int) -> dict:
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu_child})
        a.close()
        echo(b, waits_in)
        os._exit(0)
    os.sched_setaffinity(0, {cpu_parent})
    b.close()
    for _ in range(min(2000, n)):
        a.send(b"x")
        a.recv(1)
    t0, c0, e0 = time.perf_counter(), os.times(), process_cpu_s(pid)
    for _ in range(n):
        a.send(b"x")
        a.recv(1)
    t1, c1, e1 = time.perf_counter(), os.times(), process_cpu_s(pid)
    a.close()
    os.waitpid(pid, 0)
    return {
        "cpus": [cpu_parent, cpu_child],
        "echo_waits_in": waits_in,
        "round_trip_us": (t1 - t0) / n * 1e6,
        "round_trips_per_s": n / (t1 - t0),
        "caller_cpu_us": (c1.user + c1.system - c0.user - c0.system) / n * 1e6,
        "echo_cpu_us": (e1 - e0) / n * 1e6,
    }


def describe(r: dict) -> str:
    where = "same CPU" if r["cpus"][0] == r["cpus"][1] else "two CPUs"
    return f"{where}, echo waits in {r['echo_waits_in']}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--round-trips", type=int, default=20000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    pairs = ([(cpus[0], cpus[1])] if len(cpus) > 1 else []) + [(cpus[0], cpus[0])]
    results = [measure(c, e, waits_in, args.round_trips) for c, e in pairs for waits_in in ("recv", "epoll")]
    if args.json:
        print(json.dumps(results))
        return
    for r in results:
        print(f"{describe(r)}: {r['round_trip_us']:.1f} us per round trip ({r['round_trips_per_s']:.0f}/s); "
              f"CPU per round trip: caller {r['caller_cpu_us']:.1f} us, echo {r['echo_cpu_us']:.1f} us")


if __name__ == "__main__":
    main()
