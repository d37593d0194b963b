#!/usr/bin/python3
"""Latency of the admin program (what virt-admin asks) on an admin socket, measured on the wire.

Two figures per call, over N samples each:
  call     : one admin call on a connection already open (send to reply)
  session  : what one virt-admin command does on the wire: connect, CONNECT_OPEN, the call,
             CONNECT_CLOSE, close (everything but starting the virt-admin process)
The calls: LIST_SERVERS, SERVER_GET_THREADPOOL_PARAMETERS, SERVER_LIST_CLIENTS,
SERVER_GET_CLIENT_LIMITS, CONNECT_GET_LOGGING_OUTPUTS (all on SERVER, default virtnetworkd).

    bench/admin-latency.py --socket PATH [--server NAME] [--samples N] [--json]
"""
import argparse
import json
import socket
import struct
import time

PROGRAM, VERSION = 0x06900690, 1
OPEN, CLOSE, LIST_SERVERS, GET_THREADPOOL, LIST_CLIENTS, GET_LIMITS, GET_OUTPUTS = 1, 2, 4, 6, 8, 12, 14


def xdr_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)


class Client:
    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.serial = 0

    def call(self, proc: int, body: bytes = b"") -> bytes:
        self.serial += 1
        header = struct.pack(">IIiiIi", PROGRAM, VERSION, proc, 0, self.serial, 0)
        self.sock.sendall(struct.pack(">I", 4 + len(header) + len(body)) + header + body)
        length = struct.unpack(">I", self.recv(4))[0]
        packet = self.recv(length - 4)
        _, _, rproc, rtype, serial, status = struct.unpack(">IIiiIi", packet[:24])
        if rtype != 1 or serial != self.serial or rproc != proc:
            raise RuntimeError(f"unexpected packet: proc {rproc} type {rtype} serial {serial}")
        if status != 0:
            raise RuntimeError(f"proc {proc} failed: {packet[24:]!r}")
        return packet[24:]

    def recv(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("the server closed the connection")
            data += chunk
        return data

    def close(self):
        self.sock.close()


def calls(server: str):
    srv = xdr_string(server)
    flags = struct.pack(">I", 0)
    return {
        "list_servers": (LIST_SERVERS, struct.pack(">II", 1, 0)),
        "threadpool_info": (GET_THREADPOOL, srv + flags),
        "list_clients": (LIST_CLIENTS, srv + struct.pack(">II", 1, 0)),
        "client_limits": (GET_LIMITS, srv + flags),
        "log_outputs": (GET_OUTPUTS, flags),
    }


def stats(samples):
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return {"n": len(s), "p50_ms": pick(0.5) * 1e3, "p99_ms": pick(0.99) * 1e3, "max_ms": s[-1] * 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--server", default="virtnetworkd")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    result = {}
    open_body = struct.pack(">I", 0)
    for name, (proc, body) in calls(a.server).items():
        c = Client(a.socket)
        c.call(OPEN, open_body)
        call_t = []
        for _ in range(a.samples):
            t0 = time.perf_counter()
            c.call(proc, body)
            call_t.append(time.perf_counter() - t0)
        c.call(CLOSE)
        c.close()
        session_t = []
        for _ in range(max(1, a.samples // 4)):
            t0 = time.perf_counter()
            s = Client(a.socket)
            s.call(OPEN, open_body)
            s.call(proc, body)
            s.call(CLOSE)
            s.close()
            session_t.append(time.perf_counter() - t0)
        result[name] = {"call": stats(call_t), "session": stats(session_t)}
    if a.json:
        print(json.dumps(result))
        return
    print(f"{'call':<16} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} | {'session n':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, r in result.items():
        c, s = r["call"], r["session"]
        print(f"{name:<16} {c['n']:>5} {c['p50_ms']:>8.3f} {c['p99_ms']:>8.3f} {c['max_ms']:>8.3f} | "
              f"{s['n']:>9} {s['p50_ms']:>8.3f} {s['p99_ms']:>8.3f} {s['max_ms']:>8.3f}")


if __name__ == "__main__":
    main()
