#!/usr/bin/python3
"""Transparent recording proxy for libvirt's RPC protocol (stdlib only).

Listens on a Unix socket; for every client that connects it opens a connection
to the real daemon socket and forwards bytes both ways unchanged.  Each
direction is split into packets by the 4-byte big-endian length prefix, and
every complete packet (length word included) is written to OUT_DIR as

    NNNNN-cC-DIR-PROGNAME-PROCNAME-TYPE-sSERIAL-STATUS.bin

(e.g. 00007-c1-c2s-remote-connect_open-call-s1-ok.bin) plus one line in
OUT_DIR/index.tsv with the numeric header fields:

    seq time conn dir length prog vers proc procname type serial status file

(time is UTC).  Connections are numbered c1, c2, ... in accept order.

DIR is c2s (client to server) or s2c (server to client).  Procedure names are
read from libvirt's remote_protocol.x when --protocol-x points at it
(default: the libvirt source tree in ~/.cache/virtnetworkd), else numbers are
used.  Passed file descriptors (SCM_RIGHTS) are NOT forwarded; the network
driver never uses them.

Example:
    libvirt-capture.py --listen /tmp/cap.sock \\
        --upstream /tmp/vn-reference/libvirt-sock --out /tmp/capture
    virsh -c 'network:///system?socket=/tmp/cap.sock' net-list --all
"""
import argparse
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

PROGRAMS = {0x20008086: "remote", 0x6B656570: "keepalive", 0x06900690: "admin",
            0x20008087: "qemu", 0x20008088: "lxc"}
TYPES = {0: "call", 1: "reply", 2: "msg", 3: "stream", 4: "callfds", 5: "replyfds", 6: "hole"}
STATUSES = {0: "ok", 1: "error", 2: "continue"}
KEEPALIVE_PROCS = {1: "ping", 2: "pong"}
DEFAULT_PROTO_X = os.path.expanduser(
    "~/.cache/virtnetworkd/libvirt-src/src/remote/remote_protocol.x")


def load_proc_names(path):
    """Map remote procedure number -> lower-case name, from remote_protocol.x."""
    names = {}
    try:
        with open(path) as f:
            for m in re.finditer(r"REMOTE_PROC_(\w+)\s*=\s*(\d+)", f.read()):
                names[int(m.group(2))] = m.group(1).lower()
    except OSError:
        pass
    return names


class Recorder:
    def __init__(self, out_dir, proc_names):
        self.out_dir = out_dir
        self.proc_names = proc_names
        self.lock = threading.Lock()
        self.seq = 0
        os.makedirs(out_dir, exist_ok=True)
        self.index = open(os.path.join(out_dir, "index.tsv"), "a", buffering=1)
        if self.index.tell() == 0:
            self.index.write("seq\ttime\tconn\tdir\tlength\tprog\tvers\tproc\tprocname"
                             "\ttype\tserial\tstatus\tfile\n")

    def proc_name(self, prog, proc):
        if prog == 0x6B656570:
            return KEEPALIVE_PROCS.get(proc, str(proc))
        if prog == 0x20008086:
            return self.proc_names.get(proc, str(proc))
        return str(proc)

    def record(self, conn_id, direction, pkt):
        if len(pkt) >= 28:
            prog, vers, proc, typ, serial, status = struct.unpack(">IIiIII", pkt[4:28])
        else:  # malformed / truncated: record anyway
            prog = vers = proc = typ = serial = status = 0
        pname = self.proc_name(prog, proc)
        with self.lock:
            self.seq += 1
            fname = "%05d-c%d-%s-%s-%s-%s-s%d-%s.bin" % (
                self.seq, conn_id, direction, PROGRAMS.get(prog, "%08x" % prog), pname,
                TYPES.get(typ, str(typ)), serial, STATUSES.get(status, str(status)))
            with open(os.path.join(self.out_dir, fname), "wb") as f:
                f.write(pkt)
            self.index.write("%d\t%s\t%d\t%s\t%d\t0x%08x\t%d\t%d\t%s\t%d\t%d\t%d\t%s\n" % (
                self.seq, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), conn_id,
                direction, len(pkt), prog, vers, proc, pname, typ, serial, status, fname))
            print("%s %5d c%d %s %-40s %-6s serial=%d status=%d len=%d" % (
                time.strftime("%H:%M:%S"), self.seq, conn_id, direction, pname,
                TYPES.get(typ, typ), serial, status, len(pkt)), flush=True)


def pump(src, dst, recorder, conn_id, direction):
    """Copy src -> dst unchanged, recording each complete packet."""
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            buf += data
            # Record complete packets *before* forwarding them, so a call is always
            # numbered before the reply it provokes.
            while len(buf) >= 4:
                (length,) = struct.unpack(">I", buf[:4])
                if length < 4:  # nonsense length: dump the rest and give up splitting
                    recorder.record(conn_id, direction, buf)
                    buf = b""
                    break
                if len(buf) < length:
                    break
                recorder.record(conn_id, direction, buf[:length])
                buf = buf[length:]
            dst.sendall(data)
    except OSError:
        pass
    finally:
        if buf:
            recorder.record(conn_id, direction + "-partial", buf)
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, upstream_path, recorder, conn_id):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.connect(upstream_path)
    except OSError as e:
        print("c%d: cannot connect to %s: %s" % (conn_id, upstream_path, e), file=sys.stderr)
        client.close()
        return
    print("c%d: connected" % conn_id, flush=True)
    t = threading.Thread(target=pump, args=(server, client, recorder, conn_id, "s2c"), daemon=True)
    t.start()
    pump(client, server, recorder, conn_id, "c2s")
    t.join()
    client.close()
    server.close()
    print("c%d: closed" % conn_id, flush=True)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True, help="Unix socket path to listen on (clients connect here)")
    ap.add_argument("--upstream", required=True, help="Unix socket path of the real daemon")
    ap.add_argument("--out", required=True, help="folder for the captured packets and index.tsv")
    ap.add_argument("--protocol-x", default=DEFAULT_PROTO_X,
                    help="remote_protocol.x, for procedure names (default: %(default)s)")
    args = ap.parse_args()

    recorder = Recorder(args.out, load_proc_names(args.protocol_x))
    if os.path.exists(args.listen):
        os.unlink(args.listen)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(args.listen)
    os.chmod(args.listen, 0o777)
    lsock.listen(16)
    print("listening on %s -> %s, writing to %s" % (args.listen, args.upstream, args.out), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so `kill PID` removes the socket
    conn_id = 0
    try:
        while True:
            client, _ = lsock.accept()
            conn_id += 1
            threading.Thread(target=serve, args=(client, args.upstream, recorder, conn_id),
                             daemon=True).start()
    except KeyboardInterrupt:
        pass
    finally:
        lsock.close()
        os.unlink(args.listen)


if __name__ == "__main__":
    main()
