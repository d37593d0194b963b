#!/usr/bin/python3
"""Turn a capture-golden.sh run into golden vector files, or verify them.

  make-golden.py WORKDIR GOLDEN_DIR   pick packets from WORKDIR/out/index.tsv and
                                      write GOLDEN_DIR/<name>.hex (see VECTORS)
  make-golden.py --verify GOLDEN_DIR  re-parse every *.hex: length word == byte count,
                                      header == the '# header:' comment and, for known
                                      names, prog/proc/type/status as VECTORS expects

A .hex file is '# ' comment lines, then the packet (length word included) as
lowercase hex, 16 bytes per line, separated by spaces.
"""
import glob
import os
import re
import struct
import subprocess
import sys

REMOTE, KEEPALIVE = 0x20008086, 0x6B656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1
TYPE_NAMES = {0: "CALL", 1: "REPLY", 2: "MESSAGE", 3: "STREAM", 4: "CALL_WITH_FDS",
              5: "REPLY_WITH_FDS", 6: "STREAM_HOLE"}
STATUS_NAMES = {0: "OK", 1: "ERROR", 2: "CONTINUE"}
PROG_NAMES = {REMOTE: "REMOTE_PROGRAM", KEEPALIVE: "KEEPALIVE_PROGRAM"}

# name, connection, direction, prog, proc, type, status, n-th match (0-based), description
VECTORS = [
    ("auth_list.call", 1, "c2s", REMOTE, 66, CALL, OK, 0,
     "REMOTE_PROC_AUTH_LIST call (no arguments); the first packet of every connection"),
    ("auth_list.reply", 1, "s2c", REMOTE, 66, REPLY, OK, 0,
     "REMOTE_PROC_AUTH_LIST reply: types = [REMOTE_AUTH_NONE (0)]"),
    ("connect_supports_feature.call", 1, "c2s", REMOTE, 60, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE call, feature = 10 (VIR_DRV_FEATURE_PROGRAM_KEEPALIVE), "
     "sent before connect_open"),
    ("connect_supports_feature.reply", 1, "s2c", REMOTE, 60, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE reply for feature 10: supported = 1"),
    ("connect_supports_feature.remote_event_callback.call", 1, "c2s", REMOTE, 60, CALL, OK, 1,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE call, feature = 14 (VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK)"),
    ("connect_supports_feature.remote_event_callback.reply", 1, "s2c", REMOTE, 60, REPLY, OK, 1,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE reply for feature 14"),
    ("connect_supports_feature.remote_close_callback.call", 1, "c2s", REMOTE, 60, CALL, OK, 2,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE call, feature = 15 (VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK)"),
    ("connect_supports_feature.remote_close_callback.reply", 1, "s2c", REMOTE, 60, REPLY, OK, 2,
     "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE reply for feature 15"),
    ("connect_open.call", 1, "c2s", REMOTE, 1, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_OPEN call: name = \"network:///system\" (the ?socket= part is not sent), flags = 0"),
    ("connect_open.reply", 1, "s2c", REMOTE, 1, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_OPEN reply (empty)"),
    ("connect_register_close_callback.call", 1, "c2s", REMOTE, 360, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK call (no arguments); virsh sends it after opening"),
    ("connect_register_close_callback.reply", 1, "s2c", REMOTE, 360, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK reply (empty)"),
    ("network_define_xml.call", 1, "c2s", REMOTE, 41, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_DEFINE_XML call: xml = contents of golden1.xml"),
    ("network_define_xml.reply", 1, "s2c", REMOTE, 41, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_DEFINE_XML reply: net = {name golden1, uuid}"),
    ("connect_unregister_close_callback.call", 1, "c2s", REMOTE, 361, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK call (no arguments); virsh sends it before closing"),
    ("connect_unregister_close_callback.reply", 1, "s2c", REMOTE, 361, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK reply (empty)"),
    ("connect_close.call", 1, "c2s", REMOTE, 2, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_CLOSE call (no arguments)"),
    ("connect_close.reply", 1, "s2c", REMOTE, 2, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_CLOSE reply (empty)"),
    ("connect_list_all_networks.call", 3, "c2s", REMOTE, 283, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS call: need_results = 1, flags = 3 (INACTIVE | ACTIVE, from --all)"),
    ("connect_list_all_networks.reply", 3, "s2c", REMOTE, 283, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS reply: nets = [golden1, golden2], ret = 2"),
    ("network_get_autostart.call", 3, "c2s", REMOTE, 44, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_GET_AUTOSTART call: net = golden1 (virsh net-list asks this per network)"),
    ("network_get_autostart.reply", 3, "s2c", REMOTE, 44, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_GET_AUTOSTART reply: autostart = 0"),
    ("network_is_persistent.call", 3, "c2s", REMOTE, 153, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_IS_PERSISTENT call: net = golden1"),
    ("network_is_persistent.reply", 3, "s2c", REMOTE, 153, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_IS_PERSISTENT reply: persistent = 1"),
    ("network_is_active.call", 3, "c2s", REMOTE, 152, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_IS_ACTIVE call: net = golden1"),
    ("network_is_active.reply", 3, "s2c", REMOTE, 152, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_IS_ACTIVE reply: active = 0"),
    ("network_lookup_by_name.call", 4, "c2s", REMOTE, 46, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_LOOKUP_BY_NAME call: name = golden1"),
    ("network_lookup_by_name.reply", 4, "s2c", REMOTE, 46, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_LOOKUP_BY_NAME reply: net = {golden1, uuid}"),
    ("network_get_xml_desc.call", 4, "c2s", REMOTE, 43, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_GET_XML_DESC call: net = golden1, flags = 0"),
    ("network_get_xml_desc.reply", 4, "s2c", REMOTE, 43, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_GET_XML_DESC reply: xml of golden1"),
    ("network_lookup_by_name.error.call", 5, "c2s", REMOTE, 46, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_LOOKUP_BY_NAME call: name = nosuchnet"),
    ("network_lookup_by_name.error", 5, "s2c", REMOTE, 46, REPLY, ERROR, 0,
     "REMOTE_PROC_NETWORK_LOOKUP_BY_NAME error reply (status = ERROR): remote_error code 43 "
     "VIR_ERR_NO_NETWORK, domain 19 VIR_FROM_NETWORK, level 2"),
    ("connect_get_lib_version.call", 6, "c2s", REMOTE, 157, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_GET_LIB_VERSION call (no arguments)"),
    ("connect_get_lib_version.reply", 6, "s2c", REMOTE, 157, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_GET_LIB_VERSION reply: lib_ver (unsigned hyper) = 9000000"),
    ("connect_network_event_register_any.call", 7, "c2s", REMOTE, 313, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY call: eventID = 0 (LIFECYCLE), net = NULL"),
    ("connect_network_event_register_any.reply", 7, "s2c", REMOTE, 313, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY reply: callbackID chosen by the daemon "
     "(not the client-side id python returns)"),
    ("keepalive_ping", 7, "c2s", KEEPALIVE, 1, MESSAGE, OK, 0,
     "KEEPALIVE_PROC_PING from the client (setKeepAlive(2, 5)); type MESSAGE, serial 0, no payload"),
    ("keepalive_pong", 7, "s2c", KEEPALIVE, 2, MESSAGE, OK, 0,
     "KEEPALIVE_PROC_PONG from the server answering keepalive_ping; type MESSAGE, serial 0, no payload"),
    ("network_create.call", 8, "c2s", REMOTE, 39, CALL, OK, 0,
     "REMOTE_PROC_NETWORK_CREATE call: net = golden1 (virsh net-start)"),
    ("network_create.reply", 8, "s2c", REMOTE, 39, REPLY, OK, 0,
     "REMOTE_PROC_NETWORK_CREATE reply (empty)"),
    ("network_event_lifecycle.msg", 7, "s2c", REMOTE, 315, MESSAGE, OK, 0,
     "REMOTE_PROC_NETWORK_EVENT_LIFECYCLE event (type MESSAGE, serial 1) to the registered client "
     "when another client ran net-start: callbackID (the daemon's, as in the register reply), "
     "net = golden1, event = 2 (STARTED), detail = 0"),
    ("connect_network_event_deregister_any.call", 7, "c2s", REMOTE, 314, CALL, OK, 0,
     "REMOTE_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY call: callbackID (the daemon's)"),
    ("connect_network_event_deregister_any.reply", 7, "s2c", REMOTE, 314, REPLY, OK, 0,
     "REMOTE_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY reply (empty)"),
    ("network_event_lifecycle.defined.msg", 9, "s2c", REMOTE, 315, MESSAGE, OK, 0,
     "REMOTE_PROC_NETWORK_EVENT_LIFECYCLE event when another client ran net-define golden3: "
     "event = 0 (DEFINED), detail = 0"),
    ("keepalive_ping.from_server", 9, "s2c", KEEPALIVE, 1, MESSAGE, OK, 0,
     "KEEPALIVE_PROC_PING sent by the server (keepalive_interval 5 s) to an idle client that asked "
     "connect_supports_feature(PROGRAM_KEEPALIVE)"),
    ("keepalive_pong.from_client", 9, "c2s", KEEPALIVE, 2, MESSAGE, OK, 0,
     "KEEPALIVE_PROC_PONG sent by the client answering keepalive_ping.from_server"),
]
DIRS = {"c2s": "client -> server", "s2c": "server -> client"}


def header_line(pkt):
    prog, vers, proc, typ, serial, status = struct.unpack(">IIiIII", pkt[4:28])
    return ("len=%d prog=0x%08x (%s) vers=%d proc=%d type=%d (%s) serial=%d status=%d (%s)" % (
        struct.unpack(">I", pkt[:4])[0], prog, PROG_NAMES.get(prog, "?"), vers, proc, typ,
        TYPE_NAMES.get(typ, "?"), serial, status, STATUS_NAMES.get(status, "?")))


def versions():
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}, ",
                               "libvirt-daemon", "libvirt-clients", "python3-libvirt"],
                              capture_output=True, text=True).stdout.rstrip(", ")
    except OSError:
        return "unknown"


def make(work, golden):
    cols = None
    rows = []
    with open(os.path.join(work, "out", "index.tsv")) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if cols is None:
                cols = fields
                continue
            rows.append(dict(zip(cols, fields)))
    with open(os.path.join(work, "commands.txt")) as f:
        commands = [l.rstrip("\n") for l in f]
    nconn = max(int(r["conn"]) for r in rows)
    if nconn != len(commands):
        sys.exit("capture has %d connections but commands.txt %d commands" % (nconn, len(commands)))
    vers = versions()
    os.makedirs(golden, exist_ok=True)
    for name, conn, d, prog, proc, typ, status, nth, desc in VECTORS:
        hits = [r for r in rows if int(r["conn"]) == conn and r["dir"] == d
                and int(r["prog"], 16) == prog and int(r["proc"]) == proc
                and int(r["type"]) == typ and int(r["status"]) == status]
        if len(hits) <= nth:
            sys.exit("%s: no packet #%d in connection %d" % (name, nth, conn))
        r = hits[nth]
        with open(os.path.join(work, "out", r["file"]), "rb") as f:
            pkt = f.read()
        lines = ["# %s" % desc,
                 "# direction: %s (%s)" % (DIRS[d], d),
                 "# header: %s" % header_line(pkt),
                 "# produced by: %s" % commands[conn - 1],
                 "#   (connection %d of tools/capture/capture-golden.sh; captured packet %s)" % (conn, r["file"]),
                 "# captured: %s from the reference libvirtd (network driver only); %s" % (r["time"], vers)]
        for i in range(0, len(pkt), 16):
            lines.append(" ".join("%02x" % b for b in pkt[i:i + 16]))
        with open(os.path.join(golden, name + ".hex"), "w") as f:
            f.write("\n".join(lines) + "\n")
    # The whole conversation, for context: which client command opened which connection
    # and every packet header seen on it, in capture order.
    with open(os.path.join(golden, "capture-transcript.tsv"), "w") as f:
        f.write("# Every packet of the capture run the *.hex vectors were taken from "
                "(tools/capture/capture-golden.sh, %s).\n" % vers)
        for i, c in enumerate(commands, 1):
            f.write("# c%d: %s\n" % (i, c))
        keep = [c for c in cols if c != "file"]
        f.write("\t".join(keep) + "\n")
        for r in rows:
            f.write("\t".join(r[c] for c in keep) + "\n")
    print("wrote %d vectors and capture-transcript.tsv to %s" % (len(VECTORS), golden))


def read_hex(path):
    comments, data = [], bytearray()
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                comments.append(line)
            elif line.strip():
                if not re.fullmatch(r"[0-9a-f]{2}( [0-9a-f]{2}){0,15}\n?", line):
                    raise ValueError("bad hex line: %r" % line)
                data += bytes.fromhex(line)
    return comments, bytes(data)


def verify(golden):
    expected = {v[0]: v for v in VECTORS}
    bad = 0
    for path in sorted(glob.glob(os.path.join(golden, "*.hex"))):
        name = os.path.basename(path)[:-4]
        problems = []
        try:
            comments, pkt = read_hex(path)
        except ValueError as e:
            print("FAIL %s: %s" % (name, e))
            bad += 1
            continue
        if len(pkt) < 28:
            problems.append("shorter than a header")
        else:
            (length,) = struct.unpack(">I", pkt[:4])
            prog, vers, proc, typ, serial, status = struct.unpack(">IIiIII", pkt[4:28])
            if length != len(pkt):
                problems.append("length word %d != %d bytes" % (length, len(pkt)))
            if ("# header: %s\n" % header_line(pkt)) not in comments:
                problems.append("'# header:' comment does not match the bytes")
            if name in expected:
                _, _, _, eprog, eproc, etyp, estatus, _, _ = expected[name]
                if (prog, proc, typ, status) != (eprog, eproc, etyp, estatus):
                    problems.append("prog/proc/type/status %x/%d/%d/%d, expected %x/%d/%d/%d" % (
                        prog, proc, typ, status, eprog, eproc, etyp, estatus))
            else:
                problems.append("not a known vector name")
        if problems:
            bad += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            print("ok   %-52s %4d bytes  prog=0x%08x proc=%-3d type=%d serial=%-2d status=%d" % (
                name, len(pkt), prog, proc, typ, serial, status))
    missing = set(expected) - {os.path.basename(p)[:-4] for p in glob.glob(os.path.join(golden, "*.hex"))}
    for m in sorted(missing):
        bad += 1
        print("FAIL %s: missing" % m)
    print("%s: %d problem(s)" % ("FAILED" if bad else "all vectors ok", bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        sys.exit(verify(sys.argv[2]))
    if len(sys.argv) == 3 and not sys.argv[1].startswith("-"):
        make(sys.argv[1], sys.argv[2])
        sys.exit(0)
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
