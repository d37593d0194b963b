#!/usr/bin/env python3
"""Cross-check protocol-defs/*.x against libvirt's own .x files.

Deliberately independent of xdrparse.py: declarations are cut out with a
regex after stripping comments and whitespace, then compared as text by
name.  Also checks that the procedure enums are complete (remote 1-448,
admin 1-19) and that every procedure carries libvirt's @acl/@aclfilter/
@priority high/@readstream/@writestream/@sparseflag annotations in order,
plus an @api unless it is a pure event message.

Usage: check_protocol_defs.py LIBVIRT_90 LIBVIRT_113 PROTOCOL_DEFS_DIR
Exit status 1 if anything differs.
"""

import os
import re
import sys

DECL_RE = re.compile(r"\b(const|typedef|struct|union|enum)\s+([^;{]*?)(\{.*?\}\s*;|;)", re.S)
WORD = re.compile(r"[A-Za-z0-9_]")


def strip(text, keep_doc=False):
    text = re.sub(r"^%.*$", "", text, flags=re.M)
    if keep_doc:
        text = re.sub(r"/\*(?!\*[^/]).*?\*/", " ", text, flags=re.S)
    else:
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return text


def norm(s):
    s = re.sub(r"\s+", " ", s).strip()
    # drop spaces unless they separate two word characters
    out = []
    for i, ch in enumerate(s):
        if ch == " " and not (WORD.match(s[i - 1]) and WORD.match(s[i + 1])):
            continue
        out.append(ch)
    return "".join(out)


def decls(path):
    text = strip(open(path, encoding="utf-8").read())
    out = {}
    order = []
    for m in DECL_RE.finditer(text):
        kind, head, body = m.groups()
        full = norm(m.group(0))
        if kind == "const":
            name = head.split("=")[0].strip()
        elif kind == "typedef":
            name = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", head)[-1] if "<" not in head and "[" not in head \
                else re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*[<\[]", head)[-1]
        else:
            name = head.split()[0]
        out[name] = full
        order.append(name)
    return out, order


def proc_annotations(path, enum_name, keep_api):
    """{member: (number, [annotation pairs])} for a procedure enum."""
    text = open(path, encoding="utf-8").read()
    start = text.index("enum %s" % enum_name)
    body = text[start:text.index("};", start)]
    res = {}
    pending = []
    for m in re.finditer(r"(/\*\*.*?\*/)|([A-Z][A-Z0-9_]+)\s*=\s*(\d+)", body, re.S):
        if m.group(1):
            pending = re.findall(r"@([a-z]+):\s*(\S+?)(?=\s|\*/|$)", m.group(1))
        else:
            anns = [(k, v) for k, v in pending
                    if k not in ("generate",) and not (k == "priority" and v != "high")
                    and (keep_api or k != "api")]
            res[m.group(2)] = (int(m.group(3)), anns)
            pending = []
    return res


def main():
    lv90, lv113, defs = sys.argv[1:4]
    problems = []
    counts = {}

    pairs = [
        ("virnet.x", [os.path.join(lv90, "src/rpc/virnetprotocol.x")]),
        ("keepalive.x", [os.path.join(lv90, "src/rpc/virkeepaliveprotocol.x")]),
        ("admin.x", [os.path.join(lv90, "src/admin/admin_protocol.x")]),
        ("remote.x", [os.path.join(lv90, "src/remote/remote_protocol.x"),
                      os.path.join(lv113, "src/remote/remote_protocol.x")]),
    ]
    proc_enums = {"keepalive_procedure", "admin_procedure", "remote_procedure"}
    for ours_name, refs in pairs:
        ours, order = decls(os.path.join(defs, ours_name))
        ref_maps = [decls(r)[0] for r in refs]
        counts[ours_name] = (len(ours), sum(1 for n in ours if not ours[n].startswith("const")))
        for name in order:
            if name in proc_enums:
                continue
            src = next((m for m in ref_maps if name in m), None)
            if src is None:
                problems.append("%s: %s not in libvirt" % (ours_name, name))
            elif src[name] != ours[name]:
                problems.append("%s: %s differs:\n  ours:    %s\n  libvirt: %s"
                                % (ours_name, name, ours[name], src[name]))
        # every type referenced is defined in the same file
        text = strip(open(os.path.join(defs, ours_name)).read())
        idents = set(re.findall(r"\b[a-zA-Z_][A-Za-z0-9_]*\b", text))
        known = set(ours) | set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", text))
        builtin = {"const", "typedef", "struct", "union", "enum", "switch", "case",
                   "default", "unsigned", "int", "hyper", "char", "short", "double",
                   "float", "bool", "opaque", "string", "void", "type",
                   "VIR_UUID_BUFLEN", "VIR_SECURITY_MODEL_BUFLEN",
                   "VIR_SECURITY_LABEL_BUFLEN", "VIR_SECURITY_DOI_BUFLEN"}
        for ident in idents:
            if ident in known or ident in builtin or ident.startswith("VIR_TYPED_PARAM_"):
                continue
            # field names are lower-case / camelCase words after a type; only
            # flag things that look like type or constant names
            if re.match(r"^(remote_|admin_|virNet|keepalive_|REMOTE_|ADMIN_|VIR_NET_|KEEPALIVE_)", ident):
                problems.append("%s: %s used but not defined" % (ours_name, ident))

    # completeness of the data declarations
    def must_have(ours_name, ref_path, names):
        ours = decls(os.path.join(defs, ours_name))[0]
        for n in names:
            if n not in ours:
                problems.append("%s: missing %s" % (ours_name, n))

    for f, r in pairs[:3]:
        ref, _ = decls(r[0])
        must_have(f, r[0], ref.keys())
    r90 = os.path.join(lv90, "src/remote/remote_protocol.x")
    r113 = os.path.join(lv113, "src/remote/remote_protocol.x")
    ref113, _ = decls(r113)
    raw113 = open(r113).read()
    calls = raw113.index("/*----- Calls. -----*/")
    shared_text = strip(raw113[:calls])
    shared = [n for n in ref113 if re.search(r"\b%s\b" % n, shared_text)]
    must_have("remote.x", r113, [n for n in ref113 if n.startswith("REMOTE_")])
    must_have("remote.x", r113, shared)
    procs = re.findall(r"\b(REMOTE_PROC_(?:CONNECT|AUTH|NETWORK)_\w+)\s*=\s*(\d+)", raw113)
    proc_types = []
    for n, v in procs:
        if int(v) <= 448:
            base = "remote_" + n[len("REMOTE_PROC_"):].lower()
            proc_types += [base + s for s in ("_args", "_ret", "_msg") if base + s in ref113]
    must_have("remote.x", r113, proc_types)
    print("remote: %d CONNECT/AUTH/NETWORK procedures with %d args/ret/msg types, %d shared decls"
          % (len([1 for _, v in procs if int(v) <= 448]), len(proc_types), len(shared)))

    # procedure enums
    want113 = proc_annotations(r113, "remote_procedure", False)
    ours_r = proc_annotations(os.path.join(defs, "remote.x"), "remote_procedure", True)
    ref_admin = proc_annotations(os.path.join(lv90, "src/admin/admin_protocol.x"), "admin_procedure", False)
    ours_a = proc_annotations(os.path.join(defs, "admin.x"), "admin_procedure", True)
    ref_ka = proc_annotations(os.path.join(lv90, "src/rpc/virkeepaliveprotocol.x"), "keepalive_procedure", False)
    ours_k = proc_annotations(os.path.join(defs, "keepalive.x"), "keepalive_procedure", True)

    def cmp_enum(label, ref, ours, last, api_optional):
        expect = {n: v for n, v in ref.items() if v[0] <= last}
        nums = sorted(v[0] for v in ours.values())
        if nums != list(range(1, len(nums) + 1)):
            problems.append("%s: numbering has gaps/duplicates" % label)
        if set(expect) != set(ours):
            problems.append("%s: member sets differ: +%s -%s" % (
                label, sorted(set(ours) - set(expect)), sorted(set(expect) - set(ours))))
        noapi = []
        for n, (num, anns) in ours.items():
            if n not in expect:
                continue
            if num != expect[n][0]:
                problems.append("%s: %s number %d != %d" % (label, n, num, expect[n][0]))
            api = [v for k, v in anns if k == "api"]
            rest = [(k, v) for k, v in anns if k != "api"]
            if rest != expect[n][1]:
                problems.append("%s: %s annotations %s != %s" % (label, n, rest, expect[n][1]))
            if len(api) > 1 or (not api and not api_optional(n)):
                problems.append("%s: %s @api %s" % (label, n, api))
            if not api:
                noapi.append(n)
        return noapi

    msg_only = lambda n: ("remote_%s_msg" % n[12:].lower()) in ref113 and \
        ("remote_%s_args" % n[12:].lower()) not in ref113
    noapi_r = cmp_enum("remote_procedure", want113, ours_r, 448, msg_only)
    cmp_enum("admin_procedure", ref_admin, ours_a, 19, lambda n: False)
    cmp_enum("keepalive_procedure", ref_ka, ours_k, 2, lambda n: True)

    # annotations of 1..443 in 9.0 versus what we took from 11.3
    old = proc_annotations(r90, "remote_procedure", False)
    for n, (num, anns) in sorted(old.items(), key=lambda x: x[1][0]):
        if want113.get(n) != (num, anns):
            print("note: 9.0 and 11.3 differ for %s: %s -> %s" % (n, anns, want113.get(n)))

    # @api names exist in libvirt's symbol files
    syms = set()
    for p in ("src/libvirt_public.syms", "src/libvirt_private.syms", "src/admin/libvirt_admin_public.syms"):
        syms |= set(re.findall(r"^\s*(vir\w+);", open(os.path.join(lv113, p)).read(), re.M))
    for label, enum in (("remote", ours_r), ("admin", ours_a)):
        for n, (num, anns) in enum.items():
            for k, v in anns:
                if k == "api" and v not in syms:
                    problems.append("%s: %s @api %s is not a libvirt symbol" % (label, n, v))

    for f, (total, types) in counts.items():
        print("%-12s %4d declarations (%d types/enums, %d consts)" % (f, total, types, total - types))
    print("remote_procedure %d members, admin_procedure %d, keepalive_procedure %d"
          % (len(ours_r), len(ours_a), len(ours_k)))
    print("remote procs without @api (pure messages): %d" % len(noapi_r))
    for p in problems:
        print("PROBLEM: " + p)
    print("OK" if not problems else "%d problem(s)" % len(problems))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
