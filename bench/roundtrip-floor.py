#!/usr/bin/python3
"""The machine's floor for a c1 d1 round trip: two processes that do nothing but pass one byte
back and forth over a Unix socket pair, on two different CPUs and on the same CPU.

No daemon can answer one-call-at-a-time faster than this; on a VM whose idle vCPUs halt, the
cross-CPU figure is mostly the cost of waking the other vCPU, twice per round trip.

    bench/roundtrip-floor.py [--round-trips N] [--json]
"""
import argparse
import json
import os
import socket
import time


def measure(cpu_parent: int, cpu_child: int, n: int) -> dict:
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu_child})
        a.close()
        while True:
            d = b.recv(1)
            if not d:
                os._exit(0)
            b.send(d)
    os.sched_setaffinity(0, {cpu_parent})
    b.close()
    for _ in range(min(2000, n)):
        a.send(b"x")
        a.recv(1)
    t0, c0 = time.perf_counter(), os.times()
    for _ in range(n):
        a.send(b"x")
        a.recv(1)
    t1, c1 = time.perf_counter(), os.times()
    a.close()
    os.waitpid(pid, 0)
    return {
        "cpus": [cpu_parent, cpu_child],
        "round_trip_us": (t1 - t0) / n * 1e6,
        "round_trips_per_s": n / (t1 - t0),
        "caller_cpu_us": (c1.user + c1.system - c0.user - c0.system) / n * 1e6,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--round-trips", type=int, default=20000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    results = []
    if len(cpus) > 1:
        results.append(measure(cpus[0], cpus[1], args.round_trips))
    results.append(measure(cpus[0], cpus[0], args.round_trips))
    if args.json:
        print(json.dumps(results))
        return
    for r in results:
        where = "same CPU" if r["cpus"][0] == r["cpus"][1] else "two CPUs"
        print(f"{where} {r['cpus'][0]}/{r['cpus'][1]}: {r['round_trip_us']:.1f} us per round trip "
              f"({r['round_trips_per_s']:.0f}/s), caller CPU {r['caller_cpu_us']:.1f} us per round trip")


if __name__ == "__main__":
    main()
