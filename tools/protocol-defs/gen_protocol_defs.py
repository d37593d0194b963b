#!/usr/bin/env python3
"""Write protocol-defs/{virnet,keepalive,admin,remote}.x from libvirt's sources.

Reads the protocol facts (names, numbers, layouts, bounds, procedure
annotations) out of two unpacked libvirt trees and writes them in our own
layout, with no libvirt comments or prose:

  LIBVIRT_90   libvirt 9.0 tree  (base protocol, admin protocol)
  LIBVIRT_113  libvirt 11.3 tree (procedures added up to 10.8; we stop at 448)

Each procedure enum member gets a one-line doc comment for our code
generator: '@api: <public C function>' (omitted for pure event messages)
followed by libvirt's own annotations in libvirt's order, except @generate
and '@priority: low' (the default).

Usage: gen_protocol_defs.py LIBVIRT_90 LIBVIRT_113 OUTDIR
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xdrparse import parse_file, annotations, render  # noqa: E402

LAST_REMOTE_PROC = 448          # libvirt 10.8 ends here
LAST_ADMIN_PROC = 19            # admin proc 20 is 11.2

# Procedures that are not named after a public function of their own.
REMOTE_API_OVERRIDES = {
    "AUTH_LIST": "virConnectOpenAuth",
    "AUTH_SASL_INIT": "virConnectOpenAuth",
    "AUTH_SASL_START": "virConnectOpenAuth",
    "AUTH_SASL_STEP": "virConnectOpenAuth",
    "AUTH_POLKIT": "virConnectOpenAuth",
}


# A few notes of our own, placed before the named declaration.
NOTES = {
    "virNetMessageHeader": "/* Follows the 4-byte big-endian total length (which counts itself). */",
    "virNetMessageError": "/* Reply payload when status is VIR_NET_ERROR; 'dom' and 'net' are\n"
                          " * always sent as null. */",
    "virNetStreamHole": "/* Payload of a VIR_NET_STREAM_HOLE packet. */",
    "remote_network_event_callback_metadata_change_msg": "/* Network metadata (procedures 444-446): new in libvirt 9.7. */",
}


def render_noted(d):
    text = render(d)
    return NOTES[d.name] + "\n" + text if d.name in NOTES else text


def load_syms(path, section=None):
    """Symbols listed in a libvirt .syms file (optionally only those under
    the '# <section>' heading of a private .syms file)."""
    names = []
    with open(path, encoding="utf-8") as fh:
        cur = None
        for line in fh:
            s = line.strip()
            if s.startswith("#"):
                cur = s[1:].strip()
                continue
            m = re.match(r"^(vir[A-Za-z0-9_]*)\s*;", s)
            if m and (section is None or cur == section):
                names.append(m.group(1))
    return names


def sym_table(names, prefix):
    table = {}
    for n in names:
        if n.startswith(prefix):
            table.setdefault(n[len(prefix):].lower(), n)
    return table


def match_api(suffix, tables, prefix):
    key = suffix.replace("_", "").lower()
    for t in tables:
        if key in t:
            return t[key]
    # X_EVENT_CALLBACK_REGISTER_ANY is the newer wire form of X_EVENT_REGISTER_ANY
    alt = re.sub(r"_EVENT_CALLBACK_(DE)?REGISTER_ANY$", r"_EVENT_\1REGISTER_ANY", suffix)
    if alt != suffix:
        return match_api(alt, tables, prefix)
    # legacy DOMAIN_EVENTS_(DE)REGISTER -> virConnectDomainEvent(De)Register
    m = re.match(r"^DOMAIN_EVENTS_(DE)?REGISTER$", suffix)
    if m:
        return match_api("CONNECT_DOMAIN_EVENT_%sREGISTER" % (m.group(1) or ""), tables, prefix)
    return None


def doc_line(api, doc):
    parts = []
    if api:
        parts.append("@api: " + api)
    for k, v in annotations(doc):
        if k == "generate":
            continue
        if k == "priority" and v != "high":
            continue
        parts.append("@%s: %s" % (k, v))
    return "/** " + " ".join(parts) + " */" if parts else "/** */"


def render_proc_enum(enum, prefix, api_of, last, out_unmatched):
    lines = ["enum %s {" % enum.name]
    members = [(n, v, d) for n, v, d in enum.members if int(v, 0) <= last]
    for idx, (name, value, doc) in enumerate(members):
        api = api_of(name)
        if api is False:
            api = None
        elif api is None:
            out_unmatched.append(name)
        if idx:
            lines.append("")
        lines.append("    " + doc_line(api, doc))
        lines.append("    %s = %s%s" % (name, value, "," if idx + 1 < len(members) else ""))
    lines.append("};")
    return "\n".join(lines), members


def write(path, header, blocks):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(header.rstrip() + "\n")
        prev = ""
        for b in blocks:
            # runs of constants are kept together without blank lines
            sep = "" if b.startswith("const ") and prev.startswith("const ") else "\n"
            fh.write(sep + b.rstrip() + "\n")
            prev = b


def by_name(decls):
    return {d.name: d for d in decls}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    lv90, lv113, out = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    unmatched = []

    pub = load_syms(os.path.join(lv113, "src/libvirt_public.syms"))
    internal = load_syms(os.path.join(lv113, "src/libvirt_private.syms"), "libvirt_internal.h")
    remote_tables = [sym_table(pub, "vir"), sym_table(internal, "vir")]
    adm = load_syms(os.path.join(lv90, "src/admin/libvirt_admin_public.syms"))
    admin_tables = [sym_table(adm, "virAdm")]

    # ---- virnet.x -------------------------------------------------------
    _, net = parse_file(os.path.join(lv90, "src/rpc/virnetprotocol.x"))
    write(os.path.join(out, "virnet.x"),
          "/* virnet.x: framing shared by every RPC program (header, status,\n"
          " * error payload, stream hole).  Wire-compatible with libvirt. */",
          [render_noted(d) for d in net])

    # ---- keepalive.x ----------------------------------------------------
    _, ka = parse_file(os.path.join(lv90, "src/rpc/virkeepaliveprotocol.x"))
    blocks = []
    for d in ka:
        if d.kind == "enum" and d.name == "keepalive_procedure":
            # PING/PONG are pure messages: no API of their own.
            text, _ = render_proc_enum(d, "KEEPALIVE_PROC_", lambda n: False, 1 << 30, unmatched)
            blocks.append(text)
        else:
            blocks.append(render(d))
    write(os.path.join(out, "keepalive.x"),
          "/* keepalive.x: the keepalive program (PING / PONG messages). */", blocks)

    # ---- admin.x --------------------------------------------------------
    _, admin = parse_file(os.path.join(lv90, "src/admin/admin_protocol.x"))

    def admin_api(name):
        return match_api(name[len("ADMIN_PROC_"):], admin_tables, "virAdm")

    blocks = []
    for d in admin:
        if d.kind == "enum" and d.name == "admin_procedure":
            text, _ = render_proc_enum(d, "ADMIN_PROC_", admin_api, LAST_ADMIN_PROC, unmatched)
            blocks.append(text)
        else:
            blocks.append(render(d))
    write(os.path.join(out, "admin.x"),
          "/* admin.x: the daemon administration program (libvirt 9.0 admin\n"
          " * protocol, procedures 1-19). */", blocks)

    # ---- remote.x -------------------------------------------------------
    text113, rem = parse_file(os.path.join(lv113, "src/remote/remote_protocol.x"))
    names = by_name(rem)
    calls_at = text113.index("/*----- Calls. -----*/")
    proc_enum = names["remote_procedure"]

    selected_procs = [n for n, v, _ in proc_enum.members
                      if int(v, 0) <= LAST_REMOTE_PROC and
                      re.match(r"REMOTE_PROC_(CONNECT|AUTH|NETWORK)_", n)]
    want = set()
    for d in rem:
        if d.offset < calls_at and d.kind != "const":
            want.add(d.name)            # shared data types
    for p in selected_procs:
        base = "remote_" + p[len("REMOTE_PROC_"):].lower()
        for sfx in ("_args", "_ret", "_msg"):
            if base + sfx in names:
                want.add(base + sfx)
    # transitive closure over referenced types
    todo = list(want)
    while todo:
        n = todo.pop()
        for r in names[n].type_refs():
            if r not in names:
                raise SystemExit("unknown type %s used by %s" % (r, n))
            if r not in want:
                want.add(r)
                todo.append(r)

    def remote_api(name):
        suffix = name[len("REMOTE_PROC_"):]
        base = "remote_" + suffix.lower()
        if suffix in REMOTE_API_OVERRIDES:
            return REMOTE_API_OVERRIDES[suffix]
        if base + "_msg" in names and base + "_args" not in names:
            return False                # server -> client message only
        return match_api(suffix, remote_tables, "vir")

    blocks = []
    section = None
    for d in rem:
        sec = ("/* ---- shared types ---- */" if d.offset < calls_at else
               "/* ---- procedure arguments, replies and messages ---- */")
        if d.kind != "const" and d.name in want and sec != section:
            blocks.append(sec)
            section = sec
        if d.kind == "const":
            blocks.append(render(d))
        elif d.kind == "enum" and d.name == "remote_procedure":
            blocks.append("/* ---- procedure numbers (libvirt 10.8: 1-%d) ---- */"
                          % LAST_REMOTE_PROC)
            text, members = render_proc_enum(d, "REMOTE_PROC_", remote_api,
                                             LAST_REMOTE_PROC, unmatched)
            blocks.append(text)
        elif d.name in want:
            blocks.append(render_noted(d))
    write(os.path.join(out, "remote.x"),
          "/* remote.x: the main remote program as spoken by virtnetworkd.\n"
          " * Constants, shared types, the argument/reply/message types of the\n"
          " * CONNECT_*, AUTH_* and NETWORK_* procedures (through libvirt 10.8),\n"
          " * and the complete procedure numbering 1-%d. */" % LAST_REMOTE_PROC,
          blocks)

    print("remote: %d procedures, %d selected, %d types"
          % (len(members), len(selected_procs), len(want)))
    if unmatched:
        print("no @api found for: " + ", ".join(unmatched))


if __name__ == "__main__":
    main()
