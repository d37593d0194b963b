"""Minimal XDR (.x) reader shared by the protocol-defs tools.

Turns an rpcgen-style file into a list of declarations (const, typedef,
struct, union, enum).  Ordinary comments and '%' passthrough lines are
dropped; '/** ... */' doc comments inside enums are kept so that the
'@key: value' annotations in front of procedure numbers can be read.
"""

import re

_TOKEN_RE = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<doc>/\*\*(?!/).*?\*/)
    |(?P<comment>/\*.*?\*/|//[^\n]*)
    |(?P<pct>^%[^\n]*)
    |(?P<num>-?0[xX][0-9a-fA-F]+|-?[0-9]+)
    |(?P<id>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>[{}()\[\]<>;,:=*])
    """,
    re.S | re.X | re.M,
)


def tokenize(text):
    toks = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise SyntaxError("cannot tokenize at %r" % text[pos:pos + 40])
        kind = m.lastgroup
        if kind in ("num", "id", "punct", "doc"):
            toks.append((kind, m.group(kind), m.start()))
        pos = m.end()
    return toks


class Field:
    """One declaration: 'type name', 'type name[N]', 'type name<N>',
    'type *name' or 'void'."""

    def __init__(self, type_, name=None, arr=None, bound=None, ptr=False):
        self.type = type_          # e.g. 'unsigned int', 'opaque', 'remote_uuid'
        self.name = name
        self.arr = arr             # None, 'fixed' or 'var'
        self.bound = bound         # bound text ('' for unbounded <>)
        self.ptr = ptr

    def render(self):
        if self.type == "void":
            return "void"
        s = self.type + " " + ("*" if self.ptr else "") + self.name
        if self.arr == "fixed":
            s += "[%s]" % self.bound
        elif self.arr == "var":
            s += "<%s>" % self.bound
        return s

    def type_refs(self):
        base = self.type.split()
        if base[0] in ("unsigned", "int", "hyper", "char", "short", "double",
                       "float", "bool", "opaque", "string", "void", "quadruple"):
            return []
        return [self.type]


class Decl:
    def __init__(self, kind, name, offset):
        self.kind = kind           # const, typedef, struct, union, enum
        self.name = name
        self.offset = offset       # position in the source text
        self.value = None          # const value
        self.field = None          # typedef
        self.fields = []           # struct
        self.disc = None           # union discriminant
        self.cases = []            # union: list of (labels, Field); label 'default'
        self.members = []          # enum: list of (name, value, doc-or-None)

    def type_refs(self):
        refs = []
        if self.field:
            refs += self.field.type_refs()
        for f in self.fields:
            refs += f.type_refs()
        if self.disc:
            refs += self.disc.type_refs()
        for _, f in self.cases:
            refs += f.type_refs()
        return refs

    def bound_refs(self):
        """Constant names used as array bounds or union labels."""
        out = []
        fs = list(self.fields) + [f for _, f in self.cases]
        if self.field:
            fs.append(self.field)
        for f in fs:
            if f.bound and re.match(r"[A-Za-z_]", f.bound):
                out.append(f.bound)
        for labels, _ in self.cases:
            out += [l for l in labels if l != "default" and re.match(r"[A-Za-z_]", l)]
        if self.kind == "const" and re.match(r"[A-Za-z_]", self.value):
            out.append(self.value)
        return out


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, skip_doc=True):
        j = self.i
        while skip_doc and j < len(self.toks) and self.toks[j][0] == "doc":
            j += 1
        return self.toks[j] if j < len(self.toks) else (None, None, None)

    def next(self):
        while self.toks[self.i][0] == "doc":
            self.i += 1
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, val):
        t = self.next()
        if t[1] != val:
            raise SyntaxError("expected %r got %r at %d" % (val, t[1], t[2]))
        return t

    def parse(self):
        decls = []
        while self.peek()[0] is not None:
            kind, val, off = self.next()
            if val == "const":
                d = Decl("const", self.next()[1], off)
                self.expect("=")
                d.value = self.next()[1]
                self.expect(";")
            elif val == "typedef":
                f = self.field()
                d = Decl("typedef", f.name, off)
                d.field = f
                self.expect(";")
            elif val == "struct":
                d = Decl("struct", self.next()[1], off)
                self.expect("{")
                while self.peek()[1] != "}":
                    d.fields.append(self.field())
                    self.expect(";")
                self.expect("}")
                self.expect(";")
            elif val == "union":
                d = Decl("union", self.next()[1], off)
                self.expect("switch")
                self.expect("(")
                d.disc = self.field()
                self.expect(")")
                self.expect("{")
                while self.peek()[1] != "}":
                    labels = []
                    while self.peek()[1] in ("case", "default"):
                        t = self.next()[1]
                        if t == "case":
                            labels.append(self.next()[1])
                        else:
                            labels.append("default")
                        self.expect(":")
                    f = self.field()
                    self.expect(";")
                    d.cases.append((labels, f))
                self.expect("}")
                self.expect(";")
            elif val == "enum":
                d = Decl("enum", self.next()[1], off)
                self.expect("{")
                while True:
                    doc = None
                    while self.toks[self.i][0] == "doc":
                        doc = self.toks[self.i][1]
                        self.i += 1
                    if self.toks[self.i][1] == "}":
                        break
                    name = self.next()[1]
                    self.expect("=")
                    value = self.next()[1]
                    d.members.append((name, value, doc))
                    if self.peek()[1] == ",":
                        self.next()
                self.expect("}")
                self.expect(";")
            else:
                raise SyntaxError("unexpected %r at %d" % (val, off))
            decls.append(d)
        return decls

    def field(self):
        t = self.next()[1]
        if t == "void":
            return Field("void")
        if t == "unsigned":
            nxt = self.peek()[1]
            if nxt in ("int", "hyper", "char", "short", "long"):
                t = "unsigned " + self.next()[1]
        elif t == "struct" or t == "enum" or t == "union":
            t = t + " " + self.next()[1]
        ptr = False
        if self.peek()[1] == "*":
            self.next()
            ptr = True
        name = self.next()[1]
        f = Field(t, name, ptr=ptr)
        if self.peek()[1] == "[":
            self.next()
            f.arr, f.bound = "fixed", self.next()[1]
            self.expect("]")
        elif self.peek()[1] == "<":
            self.next()
            f.arr = "var"
            f.bound = "" if self.peek()[1] == ">" else self.next()[1]
            self.expect(">")
        return f


def parse_file(path):
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return text, Parser(text).parse()


def annotations(doc):
    """List of (key, value) pairs from a '/** ... */' comment, in order."""
    out = []
    if not doc:
        return out
    for m in re.finditer(r"^\s*\*?\s*@([a-z]+):\s*(\S+)\s*$", doc[3:-2], re.M):
        out.append((m.group(1), m.group(2)))
    return out


def render(d, indent="    "):
    """Render one declaration in our own canonical layout."""
    if d.kind == "const":
        return "const %s = %s;" % (d.name, d.value)
    if d.kind == "typedef":
        return "typedef %s;" % d.field.render()
    if d.kind == "struct":
        body = "".join("%s%s;\n" % (indent, f.render()) for f in d.fields)
        return "struct %s {\n%s};" % (d.name, body)
    if d.kind == "union":
        lines = []
        for labels, f in d.cases:
            for l in labels:
                lines.append("%s%s:" % (indent, "default" if l == "default" else "case " + l))
            lines.append("%s%s%s;" % (indent, indent, f.render()))
        return "union %s switch (%s) {\n%s\n};" % (d.name, d.disc.render(), "\n".join(lines))
    if d.kind == "enum":
        body = ",\n".join("%s%s = %s" % (indent, n, v) for n, v, _ in d.members)
        return "enum %s {\n%s\n};" % (d.name, body)
    raise ValueError(d.kind)
