"""Clients racing on the same networks: each thread has its own connection and, ITERATIONS
times, picks one of NAMES networks and one operation at random. Every call must either succeed
or fail with the error libvirt gives for the state the network was in at that moment.

usage: network_race.py URI PREFIX THREADS ITERATIONS SUBNET [OPS]
OPS: comma-separated operations to draw from (default: all of them; each network is defined
first when "define" is not among them).
Prints "unexpected: ..." per call outside that, "hang: ..." per thread still running after
90 s, then "calls N ok N failed N", then "final NAME active persistent autostart" per network.
"""
import random
import re
import sys
import threading
import time
import uuid
import libvirt

uri, prefix = sys.argv[1], sys.argv[2]
threads, iterations, subnet = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
OPS = sys.argv[6].split(",") if len(sys.argv) > 6 else ["define", "create", "start", "destroy", "undefine", "autostart"]
libvirt.registerErrorHandler(lambda *a: None, None)
NAMES = [f"{prefix}-{i}" for i in range(3)]
UUIDS = {n: str(uuid.uuid5(uuid.NAMESPACE_DNS, n)) for n in NAMES}


def xml(i, n):
    return (f"<network><name>{n}</name><uuid>{UUIDS[n]}</uuid><bridge name='vdr{subnet}{i}'/>"
            f"<mac address='52:54:00:5f:{subnet:02x}:{i:02x}'/>"
            f"<ip address='192.168.{subnet + i}.1' netmask='255.255.255.0'/></network>")


def expected(op, n):
    """libvirt's errors for each operation, by the state the network can be in."""
    gone = [rf"Network not found: no network with matching name '{n}'",
            rf"Network not found: no network with matching uuid '{UUIDS[n]}' \({n}\)"]
    return {
        "define": [],
        "create": [rf"Requested operation is not valid: network is already active as '{n}'"],
        "start": gone + ["Requested operation is not valid: network is already active"],
        "destroy": gone + [rf"Requested operation is not valid: network '{n}' is not active"],
        "undefine": gone + ["Requested operation is not valid: can't undefine transient network"],
        "autostart": gone + ["Requested operation is not valid: cannot set autostart for transient network"],
    }[op]


lock = threading.Lock()
counts = {"ok": 0, "failed": 0}
unexpected = []


def worker(seed):
    rnd = random.Random(seed)
    conn = libvirt.open(uri)
    for _ in range(iterations):
        i = rnd.randrange(len(NAMES))
        n, op = NAMES[i], rnd.choice(OPS)
        t0 = time.time()
        try:
            if op == "define":
                conn.networkDefineXML(xml(i, n))
            elif op == "create":
                conn.networkCreateXML(xml(i, n))
            else:
                net = conn.networkLookupByName(n)
                {"start": net.create, "destroy": net.destroy, "undefine": net.undefine,
                 "autostart": lambda: net.setAutostart(rnd.randrange(2))}[op]()
            outcome = "ok"
        except libvirt.libvirtError as e:
            outcome = "failed"
            if not any(re.fullmatch(p, str(e)) for p in expected(op, n)):
                with lock:
                    unexpected.append(f"{op} {n}: {e}")
        with lock:
            counts[outcome] += 1
            if time.time() - t0 > 20:
                unexpected.append(f"{op} {n}: took {time.time() - t0:.1f} s")
    conn.close()


if "define" not in OPS and iterations:
    setup = libvirt.open(uri)
    for i, n in enumerate(NAMES):
        setup.networkDefineXML(xml(i, n))
    setup.close()
workers = [threading.Thread(target=worker, args=(s,), daemon=True) for s in range(threads)]
for w in workers:
    w.start()
deadline = time.time() + 90
for w in workers:
    w.join(max(0.0, deadline - time.time()))
for w in workers:
    if w.is_alive():
        print("hang:", w.name)
for u in unexpected:
    print("unexpected:", u)
print("calls", counts["ok"] + counts["failed"], "ok", counts["ok"], "failed", counts["failed"])
conn = libvirt.open(uri)
for net in sorted(conn.listAllNetworks(0), key=lambda x: x.name()):
    if net.name() in NAMES:
        print("final", net.name(), net.isActive(), net.isPersistent(), net.autostart())
