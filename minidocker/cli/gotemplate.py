"""A subset of Go's text/template, as `docker ... --format/-f` uses it.

Pure. Data is nested dict/list/str/int/float/bool/None. Behaviour and error texts
follow Go 1.19 text/template with Docker's extra functions (json, join, split,
title, lower, upper, pad, truncate), checked against docker 20.10.24.

Errors raise TemplateError; `.message` is Go's text, e.g.
  template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"
and `.cli_message` adds docker's "template parsing error: " prefix. docker
prints a newline on stdout before an execution error (`.parse` False); its exit
status is 64 for parse errors of `inspect -f` and 1 otherwise.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from dataclasses import dataclass, field as dfield

from minidocker.errors import InvalidArgument


class TemplateError(InvalidArgument):
    def __init__(self, message: str, parse: bool):
        super().__init__(message)
        self.parse = parse
        self.cli_message = "template parsing error: " + message
        self.client_side = True


class Struct(dict):
    """A dict that prints like a Go struct: `{v1 v2}` (values in order)."""


# ----------------------------------------------------------------------------- lexing
_TOKEN = re.compile(r"""
   (?P<ws>\s+)
 | (?P<str>"(?:[^"\\\n]|\\.)*")
 | (?P<raw>`[^`]*`)
 | (?P<char>'(?:[^'\\\n]|\\.)+')
 | (?P<decl>:=)
 | (?P<assign>=)
 | (?P<num>[+-]?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
 | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
 | (?P<dot>\.)
 | (?P<var>\$[A-Za-z0-9_]*)
 | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
 | (?P<punct>[|(),])
""", re.X)


@dataclass
class Tok:
    kind: str
    val: str
    pos: int


@dataclass
class Node:
    pos: int
    src: str = ""


@dataclass
class Text(Node):
    text: str = ""


@dataclass
class Operand(Node):
    kind: str = ""          # field, var, dot, str, num, bool, nil, ident, pipe
    value: object = None    # literal value / ident name / var name / Pipe
    chain: list = dfield(default_factory=list)   # field names after the term


@dataclass
class Command(Node):
    args: list = dfield(default_factory=list)


@dataclass
class Pipe(Node):
    decl: list = dfield(default_factory=list)
    assign: bool = False
    cmds: list = dfield(default_factory=list)


@dataclass
class Action(Node):
    pipe: Pipe | None = None


@dataclass
class Block(Node):
    kind: str = ""          # if, range, with
    pipe: Pipe | None = None
    body: list = dfield(default_factory=list)
    orelse: list = dfield(default_factory=list)


_BUILTINS = {"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne",
             "lt", "le", "gt", "ge", "json", "join", "split", "title", "lower", "upper",
             "pad", "truncate", "slice"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.items = self._lex(text)
        self.i = 0
        self.vars = [["$"]]

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def fail(self, msg: str, pos: int):
        raise TemplateError(f"template: :{self.line(pos)}: {msg}", parse=True)

    def _lex(self, text: str) -> list:
        """-> list of ('text', str, pos) and ('action', [Tok], pos, end)."""
        out, pos, n = [], 0, len(text)
        trim_next = False
        while pos < n or not out:
            start = text.find("{{", pos)
            chunk = text[pos:] if start < 0 else text[pos:start]
            if trim_next:
                chunk = chunk.lstrip(" \t\r\n")
            if start < 0:
                out.append(("text", chunk, pos))
                break
            inner = start + 2
            if text.startswith("- ", inner) or text.startswith("-\t", inner) or text.startswith("-\n", inner):
                chunk = chunk.rstrip(" \t\r\n")
                inner += 1
            out.append(("text", chunk, pos))
            if text.startswith("/*", inner) or text.startswith(" /*", inner):
                c_end = text.find("*/", inner)
                if c_end < 0:
                    self.fail("unclosed comment", start)
                close = text.find("}}", c_end)
                if close < 0:
                    self.fail("unclosed action", start)
                trim_next = text[c_end + 2:close].strip() == "-"
                pos = close + 2
                continue
            toks, p, trim_next = [], inner, False
            while True:
                if p >= n:
                    self.fail("unclosed action", start)
                if text.startswith("}}", p):
                    p += 2
                    break
                if text.startswith(" -}}", p) or text.startswith("\t-}}", p) or text.startswith("\n-}}", p):
                    trim_next = True
                    p += 4
                    break
                m = _TOKEN.match(text, p)
                if not m:
                    ch = text[p]
                    if ch == "\n":
                        self.fail("unclosed action", start)
                    self.fail(f"bad character U+{ord(ch):04X} '{ch}'", p)
                if m.lastgroup != "ws":
                    toks.append(Tok(m.lastgroup, m.group(), p))
                p = m.end()
            out.append(("action", toks, start, p))
            pos = p
            if pos >= n:
                break
        return out

    # -- structure
    def parse(self) -> list:
        body, stop = self.parse_list(())
        if stop is not None:
            self.fail(f"unexpected {{{{{stop[0]}}}}}", stop[1])
        return body

    def parse_list(self, stops: tuple):
        nodes = []
        while self.i < len(self.items):
            item = self.items[self.i]
            self.i += 1
            if item[0] == "text":
                if item[1]:
                    nodes.append(Text(item[2], text=item[1]))
                continue
            toks, start = item[1], item[2]
            if not toks:
                self.fail("missing value for command", start)
            head = toks[0]
            if head.kind == "ident" and head.val in ("end", "else"):
                if head.val not in stops:
                    self.fail(f"unexpected {{{{{head.val}}}}}", start)
                return nodes, (head.val, start, toks[1:])
            if head.kind == "ident" and head.val in ("if", "range", "with"):
                nodes.append(self.parse_block(head.val, toks[1:], start))
                continue
            nodes.append(Action(start, pipe=self.parse_pipe(toks, start, decl_ok=True)))
        if stops:
            self.fail("unexpected EOF", len(self.text))
        return nodes, None

    def parse_block(self, kind: str, toks: list, start: int) -> Block:
        self.vars.append([])
        pipe = self.parse_pipe(toks, start, decl_ok=True, in_range=kind == "range")
        body, stop = self.parse_list(("end", "else"))
        orelse = []
        if stop[0] == "else":
            rest = stop[2]
            if rest and rest[0].kind == "ident" and rest[0].val in ("if", "with") and kind == rest[0].val:
                # {{else if ...}} == {{else}}{{if ...}}...{{end}} sharing our {{end}}
                orelse = [self._else_chain(rest[0].val, rest[1:], stop[1])]
            else:
                if rest:
                    self.fail(f"unexpected {rest[0].val} in else", stop[1])
                orelse, stop = self.parse_list(("end",))
        self.vars.pop()
        return Block(start, kind=kind, pipe=pipe, body=body, orelse=orelse)

    def _else_chain(self, kind, toks, start) -> Block:
        self.vars.append([])
        pipe = self.parse_pipe(toks, start, decl_ok=True)
        body, stop = self.parse_list(("end", "else"))
        orelse = []
        if stop[0] == "else":
            rest = stop[2]
            if rest and rest[0].kind == "ident" and rest[0].val == kind:
                orelse = [self._else_chain(kind, rest[1:], stop[1])]
            else:
                orelse, _ = self.parse_list(("end",))
        self.vars.pop()
        return Block(start, kind=kind, pipe=pipe, body=body, orelse=orelse)

    def parse_pipe(self, toks: list, start: int, decl_ok=False, in_range=False) -> Pipe:
        pipe = Pipe(start)
        k = 0
        # declarations: $x := / $x = / $i, $e :=
        if decl_ok and toks and toks[0].kind == "var":
            if len(toks) > 1 and toks[1].kind in ("decl", "assign"):
                pipe.decl, pipe.assign, k = [toks[0].val], toks[1].kind == "assign", 2
            elif in_range and len(toks) > 3 and toks[1].val == "," and toks[2].kind == "var" \
                    and toks[3].kind in ("decl", "assign"):
                pipe.decl, pipe.assign, k = [toks[0].val, toks[2].val], toks[3].kind == "assign", 4
        rest = toks[k:]
        if not rest:
            self.fail("missing value for command", start)
        if pipe.assign:
            for v in pipe.decl:
                self.lookup_var(v, start)
        cmds, cur = [], []
        depth = 0
        for t in rest:
            if t.kind == "punct" and t.val == "|" and depth == 0:
                cmds.append(cur)
                cur = []
                continue
            depth += (t.val == "(") - (t.val == ")") if t.kind == "punct" else 0
            cur.append(t)
        cmds.append(cur)
        for c in cmds:
            if not c:
                self.fail("missing command", start)
            pipe.cmds.append(self.parse_command(c))
        if not pipe.assign:
            self.vars[-1].extend(pipe.decl)
        pipe.src = self._src(rest)
        return pipe

    def _src(self, toks: list) -> str:
        return self.text[toks[0].pos:toks[-1].pos + len(toks[-1].val)]

    def lookup_var(self, name: str, pos: int):
        if not any(name in scope for scope in self.vars):
            self.fail(f'undefined variable "{name}"', pos)

    def parse_command(self, toks: list) -> Command:
        cmd = Command(toks[0].pos, src=self._src(toks))
        j = 0
        while j < len(toks):
            op, j = self.parse_operand(toks, j)
            cmd.args.append(op)
        return cmd

    def parse_operand(self, toks: list, j: int):
        t = toks[j]
        if t.kind == "punct" and t.val == "(":
            depth, k = 0, j
            while k < len(toks):
                if toks[k].kind == "punct":
                    depth += {"(": 1, ")": -1}.get(toks[k].val, 0)
                    if depth == 0:
                        break
                k += 1
            if k >= len(toks):
                self.fail("unclosed left paren", t.pos)
            inner = toks[j + 1:k]
            op = Operand(t.pos, src=self._src(toks[j:k + 1]), kind="pipe",
                         value=self.parse_pipe(inner, t.pos, decl_ok=False))
            j = k + 1
        elif t.kind == "field":
            op, j = Operand(t.pos, kind="field", chain=[t.val[1:]]), j + 1
        elif t.kind == "dot":
            op, j = Operand(t.pos, kind="dot"), j + 1
        elif t.kind == "var":
            self.lookup_var(t.val, t.pos)
            op, j = Operand(t.pos, kind="var", value=t.val), j + 1
        elif t.kind in ("str", "raw"):
            val = t.val[1:-1] if t.kind == "raw" else _unquote(t.val)
            op, j = Operand(t.pos, kind="str", value=val), j + 1
        elif t.kind == "char":
            op, j = Operand(t.pos, kind="num", value=ord(_unquote('"' + t.val[1:-1] + '"'))), j + 1
        elif t.kind == "num":
            op, j = Operand(t.pos, kind="num", value=_number(t.val)), j + 1
        elif t.kind == "ident":
            if t.val in ("true", "false"):
                op = Operand(t.pos, kind="bool", value=t.val == "true")
            elif t.val == "nil":
                op = Operand(t.pos, kind="nil")
            elif t.val in _BUILTINS:
                op = Operand(t.pos, kind="ident", value=t.val)
            else:
                self.fail(f'function "{t.val}" not defined', t.pos)
            j += 1
        else:
            self.fail(f"unexpected {t.val!r} in operand", t.pos)
        # field chain after the term: .A.B / $x.A / (pipe).A
        chain_pos = None
        while (j < len(toks) and toks[j].kind == "field"
               and toks[j].pos == toks[j - 1].pos + len(toks[j - 1].val)):
            chain_pos = chain_pos if chain_pos is not None else toks[j].pos
            op.chain.append(toks[j].val[1:])
            j += 1
        if chain_pos is not None and op.kind in ("field", "var", "pipe"):
            op.pos = chain_pos
        if not op.src:
            op.src = self._src(toks[toks.index(t):j])
        return op, j


def _unquote(s: str) -> str:
    try:
        return json.loads(re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", s).replace("\\'", "'"))
    except ValueError:
        return s[1:-1]


def _number(s: str):
    s = s.replace("_", "")
    try:
        return int(s, 0)
    except ValueError:
        return float(s)


# ----------------------------------------------------------------------------- values
_MISSING = object()   # Go's invalid reflect.Value ("<no value>")


def _go_float(v: float) -> str:
    """fmt %v of a float64 (strconv 'g', shortest digits, %e when exp < -4 or >= 21... 6)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    d = Decimal(repr(abs(v))).normalize()
    e10 = d.adjusted()
    sign = "-" if v < 0 else ""
    if e10 < -4 or e10 >= 6:
        digits = "".join(map(str, d.as_tuple().digits))
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'+' if e10 >= 0 else '-'}{abs(e10):02d}"
    return sign + format(d, "f")


def go_str(v, top: bool = True) -> str:
    """fmt.Sprint-like printing of one value."""
    if v is _MISSING:
        return "<no value>"
    if v is None:
        return "<no value>" if top else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, Struct):
        return "{" + " ".join(go_str(x, False) for x in v.values()) + "}"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k], False)}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_str(x, False) for x in v) + "]"
    return str(v)


def go_json(v) -> str:
    """Go json.Marshal (compact, no HTML escaping as docker's json func)."""
    def conv(x):
        if x is _MISSING:
            return None
        if isinstance(x, float) and x == int(x) and abs(x) < 1e21:
            return int(x)
        if isinstance(x, dict):
            return {str(k): conv(val) for k, val in x.items()}
        if isinstance(x, (list, tuple)):
            return [conv(val) for val in x]
        return x
    out = json.dumps(conv(v), ensure_ascii=False, separators=(",", ":"))
    return (out.replace("\\b", "\\u0008").replace("\\f", "\\u000c")
               .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _truth(v) -> bool:
    if v is _MISSING or v is None:
        return False
    return bool(v)


def _go_type(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    return "interface {}"


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])")


def go_sprintf(fmt: str, args: list) -> str:
    out, k, pos = [], 0, 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if k >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args[k]
        k += 1
        if verb in "vs":
            s = go_str(a, top=False) if a is not _MISSING else "<nil>"
            s = s[:int(prec)] if prec and verb == "s" else s
        elif verb == "q":
            s = '"' + json.dumps(str(a), ensure_ascii=False)[1:-1] + '"' if isinstance(a, str) else str(a)
        elif verb == "t" and isinstance(a, bool):
            s = go_str(a)
        elif verb in "dxXob" and isinstance(a, int) and not isinstance(a, bool):
            s = format(a, {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb])
        elif verb in "xX" and isinstance(a, str):
            s = a.encode().hex()
            s = s.upper() if verb == "X" else s
        elif verb in "feEgG" and isinstance(a, (int, float)) and not isinstance(a, bool):
            s = format(float(a), f".{prec or 6}{verb}") if verb != "g" else _go_float(float(a))
        else:
            s = f"%!{verb}({_go_type(a)}={go_str(a, top=False)})"
        if width and width != "*" and len(s) < int(width):
            pad = int(width) - len(s)
            if "-" in flags:
                s = s + " " * pad
            elif "0" in flags and verb in "dxXobfeEgG":
                s = ("-" + "0" * pad + s[1:]) if s.startswith("-") else "0" * pad + s
            else:
                s = " " * pad + s
        out.append(s)
    out.append(fmt[pos:])
    if k < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_go_type(a)}={go_str(a, top=False)}" for a in args[k:]) + ")")
    return "".join(out)


def _sprint(args: list) -> str:
    out = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a, top=False) if a is not None else "<nil>")
    return "".join(out)


def _title(s: str) -> str:
    out, prev_sep = [], True
    for ch in s:
        out.append(ch.upper() if prev_sep else ch)
        prev_sep = not (ch.isalnum() or ch == "_")
    return "".join(out)


# ----------------------------------------------------------------------------- execution
class _Exec:
    def __init__(self, text: str, missingkey: str, struct_type: str | None, root):
        self.text, self.missingkey, self.struct_type = text, missingkey, struct_type
        self.root = root
        self.vars: list[list] = [[("$", root)]]
        self.out: list[str] = []
        self.header = False

    def fail(self, node: Node, msg: str):
        pos = node.pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1)
        ctx = node.src
        if len(ctx) > 20:
            ctx = ctx[:20] + "..."
        raise TemplateError(f'template: :{line}:{col}: executing "" at <{ctx}>: {msg}', parse=False)

    def getvar(self, name):
        for scope in reversed(self.vars):
            for n, v in reversed(scope):
                if n == name:
                    return v
        return _MISSING

    def setvar(self, name, value):
        for scope in reversed(self.vars):
            for i, (n, _) in enumerate(scope):
                if n == name:
                    scope[i] = (name, value)
                    return

    def walk(self, nodes: list, dot):
        for n in nodes:
            if isinstance(n, Text):
                self.out.append(n.text)
            elif isinstance(n, Action):
                v = self.pipe(n.pipe, dot)
                if not n.pipe.decl:
                    self.out.append(go_str(v))
            else:
                self.block(n, dot)

    def block(self, b: Block, dot):
        self.vars.append([])
        try:
            val = self.pipe(b.pipe, dot)
            if b.kind == "if":
                self.walk(b.body if _truth(val) else b.orelse, dot)
            elif b.kind == "with":
                self.walk(b.body, val) if _truth(val) else self.walk(b.orelse, dot)
            else:
                self.range(b, val, dot)
        finally:
            self.vars.pop()

    def range(self, b: Block, val, dot):
        if val is _MISSING or val is None:
            items = []
        elif isinstance(val, dict):
            items = [(k, val[k]) for k in sorted(val)]
        elif isinstance(val, (list, tuple)):
            items = list(enumerate(val))
        elif isinstance(val, int) and not isinstance(val, bool):
            items = [(i, i) for i in range(val)]
        else:
            self.fail(b.pipe.cmds[-1].args[0] if len(b.pipe.cmds) == 1 and len(b.pipe.cmds[0].args) == 1
                      else b.pipe.cmds[-1], f"range can't iterate over {go_str(val)}")
        if not items:
            self.walk(b.orelse, dot)
            return
        for k, v in items:
            if len(b.pipe.decl) == 1:
                self.vars[-1].append((b.pipe.decl[0], v))
            elif len(b.pipe.decl) == 2:
                self.vars[-1].append((b.pipe.decl[0], k))
                self.vars[-1].append((b.pipe.decl[1], v))
            self.walk(b.body, v)

    def pipe(self, p: Pipe, dot):
        val = _MISSING
        for i, cmd in enumerate(p.cmds):
            val = self.command(cmd, dot, val if i > 0 else _NOFINAL)
        for name in p.decl[:1] if len(p.decl) == 1 else []:
            if p.assign:
                self.setvar(name, val)
            else:
                self.vars[-1].append((name, val))
        return val

    def command(self, cmd: Command, dot, final):
        first = cmd.args[0]
        if first.kind == "ident" and not first.chain:
            args = [self.operand(a, dot) for a in cmd.args[1:]]
            if final is not _NOFINAL:
                args.append(final)
            return self.call(first.value, args, cmd)
        if len(cmd.args) > 1 or final is not _NOFINAL:
            self.fail(first, f"can't give argument to non-function {first.src}")
        return self.operand(first, dot)

    def operand(self, op: Operand, dot):
        if op.kind == "field":
            return self.fields(op, dot, op.chain, top=dot is self.root)
        if op.kind == "dot":
            base = dot
        elif op.kind == "var":
            base = self.getvar(op.value)
        elif op.kind in ("str", "num", "bool"):
            base = op.value
        elif op.kind == "nil":
            self.fail(op, "nil is not a command")
        elif op.kind == "pipe":
            base = self.pipe(op.value, dot)
        else:   # function name used as a value
            base = self.call(op.value, [], Command(op.pos, src=op.src))
        return self.fields(op, base, op.chain, top=False) if op.chain else base

    def fields(self, node: Operand, recv, names: list, top: bool):
        for idx, name in enumerate(names):
            if isinstance(recv, dict):
                if name in recv:
                    recv = recv[name]
                elif isinstance(recv, Struct) or (top and idx == 0 and self.struct_type):
                    tname = self.struct_type if top and idx == 0 and self.struct_type else "struct"
                    self.fail(node, f"can't evaluate field {name} in type {tname}")
                elif self.missingkey == "error":
                    self.fail(node, f'map has no entry for key "{name}"')
                else:
                    recv = _MISSING
            elif recv is _MISSING:
                if self.missingkey == "error":
                    self.fail(node, f'nil data; no entry for key "{name}"')
                return _MISSING
            elif recv is None:
                self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
            else:
                self.fail(node, f"can't evaluate field {name} in type interface {{}}")
        return recv

    def call(self, name: str, args: list, cmd: Command):
        if self.header and name in _HEADER_IDENTITY and args:
            return args[0]
        try:
            return _call(name, args)
        except _CallError as e:
            self.fail(cmd, f"error calling {name}: {e}" if not e.bare else str(e))


_NOFINAL = object()
# docker's HeaderFunctions: these print the header text unchanged
_HEADER_IDENTITY = {"json", "split", "join", "title", "lower", "upper", "pad", "truncate"}


class _CallError(Exception):
    def __init__(self, msg, bare=False):
        super().__init__(msg)
        self.bare = bare


def _need(args, n, name):
    if len(args) != n:
        raise _CallError(f"wrong number of args for {name}: want {n} got {len(args)}", bare=True)


def _cmp_ok(a, b):
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, num) and isinstance(b, num):
        return True
    return type(a) is type(b) and isinstance(a, str)


def _call(name: str, args: list):
    a = [None if x is _MISSING else x for x in args]
    if name == "and":
        for x in args:
            if not _truth(x):
                return x
        return args[-1] if args else _MISSING
    if name == "or":
        for x in args:
            if _truth(x):
                return x
        return args[-1] if args else _MISSING
    if name == "not":
        _need(a, 1, name)
        return not _truth(args[0])
    if name == "len":
        _need(a, 1, name)
        if isinstance(a[0], (str, list, tuple, dict)) :
            return len(a[0].encode() if isinstance(a[0], str) else a[0])
        raise _CallError(f"len of type {_go_type(a[0])}" if a[0] is not None else "len of nil pointer")
    if name == "index":
        cur = a[0] if a else None
        for key in a[1:]:
            if isinstance(cur, dict):
                if key in cur:
                    cur = cur[key]
                else:
                    cur = "" if all(isinstance(v, str) for v in cur.values()) else _MISSING
            elif isinstance(cur, (list, tuple, str)):
                if not isinstance(key, int) or isinstance(key, bool):
                    raise _CallError(f"cannot index slice/array with type {_go_type(key)}")
                if not 0 <= key < len(cur):
                    raise _CallError(f"index out of range: {key}")
                cur = cur.encode()[key] if isinstance(cur, str) else cur[key]
            elif cur is None:
                raise _CallError("index of untyped nil")
            else:
                raise _CallError(f"can't index item of type {_go_type(cur)}")
        return cur
    if name == "slice":
        cur = a[0]
        idx = a[1:]
        return cur[idx[0] if idx else 0: idx[1] if len(idx) > 1 else None]
    if name == "print":
        return _sprint(a)
    if name == "println":
        return " ".join(go_str(x, top=False) if x is not None else "<nil>" for x in a) + "\n"
    if name == "printf":
        if not a or not isinstance(a[0], str):
            raise _CallError("wrong type for value; expected string", bare=False)
        return go_sprintf(a[0], args[1:])
    if name in ("eq", "ne", "lt", "le", "gt", "ge"):
        if len(a) < 2:
            raise _CallError("missing argument for comparison")
        if name in ("eq",):
            for b in a[1:]:
                if not _cmp_ok(a[0], b):
                    raise _CallError("incompatible types for comparison")
            return any(a[0] == b for b in a[1:])
        _need(a, 2, name)
        if not _cmp_ok(a[0], a[1]):
            raise _CallError("incompatible types for comparison")
        x, y = a
        return {"ne": x != y, "lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[name]
    if name == "json":
        _need(a, 1, name)
        return go_json(args[0])
    if name == "join":
        _need(a, 2, name)
        if not isinstance(a[0], (list, tuple)):
            raise _CallError(f"wrong type for value; expected []string; got {_go_type(a[0])}", bare=True)
        return str(a[1]).join(go_str(x, top=False) for x in a[0])
    if name == "split":
        _need(a, 2, name)
        return str(a[0]).split(str(a[1])) if a[1] else list(str(a[0]))
    if name in ("lower", "upper", "title"):
        _need(a, 1, name)
        if not isinstance(a[0], str):
            raise _CallError(f"wrong type for value; expected string; got {_go_type(a[0])}", bare=True)
        return {"lower": str.lower, "upper": str.upper, "title": _title}[name](a[0])
    if name == "pad":
        _need(a, 3, name)
        return " " * int(a[1]) + str(a[0]) + " " * int(a[2])
    if name == "truncate":
        _need(a, 2, name)
        return str(a[0])[:int(a[1])]
    raise _CallError(f'function "{name}" not defined', bare=True)


# ----------------------------------------------------------------------------- API
def parse(template: str) -> list:
    """Parse only (raises TemplateError with parse=True)."""
    return _Parser(template).parse()


def render(template: str, data, missingkey: str = "error", struct_type: str | None = None,
           header: bool = False) -> str:
    """Execute `template` on `data`.

    missingkey="error" (docker inspect's map fallback): a missing map key is an
    error `map has no entry for key "K"`; "default": it prints `<no value>`.
    struct_type="*network.networkContext": a missing top-level key reads like a
    missing struct field, `can't evaluate field K in type T` (docker ls rows).
    """
    tree = parse(template)
    ex = _Exec(template, missingkey, struct_type, data)
    ex.header = header
    ex.walk(tree, data)
    return "".join(ex.out)


def tabwrite(text: str, minwidth: int = 10, padding: int = 3) -> str:
    """Go text/tabwriter as docker uses it: NewWriter(out, 10, 1, 3, ' ', 0)."""
    lines = [ln.split("\t") for ln in text.split("\n")]
    trailing_nl = text.endswith("\n")
    if trailing_nl:
        lines.pop()
    out: list[str] = []
    widths: list[int] = []

    def write_lines(l0, l1):
        for line in lines[l0:l1]:
            s = []
            for j, cell in enumerate(line):
                if j < len(widths) and j < len(line) - 1:
                    s.append(cell + " " * (widths[j] - len(cell)))
                else:
                    s.append(cell)
            out.append("".join(s))

    def fmt(l0, l1):
        col = len(widths)
        this = l0
        while this < l1:
            if col >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(l0, this)
            l0 = this
            width = minwidth
            while this < l1 and col < len(lines[this]) - 1:
                width = max(width, len(lines[this][col]) + padding)
                this += 1
            widths.append(width)
            fmt(l0, this)
            widths.pop()
            l0 = this
        write_lines(l0, l1)

    fmt(0, len(lines))
    return "\n".join(out) + ("\n" if trailing_nl else "")


def _prepare(fmt: str) -> tuple[bool, str]:
    table = fmt.startswith("table")
    if table:
        fmt = fmt[len("table"):]
    fmt = fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    return table, fmt


def render_table(template: str, rows: list[dict], headers: dict[str, str],
                 struct_type: str | None = None) -> str:
    """docker ls-style output. With a `table` prefix (or always, if the template
    has none): header row rendered from `headers` (field -> header text, e.g.
    "ID" -> "NETWORK ID"), then one row per item, aligned by tabwriter
    (cell width = max(widest + 3, 10); the last column is not padded).
    `\\t` and `\\n` written literally in the template become tab/newline."""
    _, body = _prepare(template)
    head = render(body, {k.lstrip("."): v for k, v in headers.items()},
                  missingkey="default", header=True)
    lines = [head] + [render(body, r, struct_type=struct_type) for r in rows]
    return tabwrite("".join(x + "\n" for x in lines))


def render_rows(fmt: str, rows: list[dict], headers: dict[str, str],
                default_table: str, struct_type: str | None = None,
                json_keyword: bool = False) -> str:
    """Full `--format` handling of a docker 20.10 `ls` command.

    "" or "table" -> default_table; "table ..." -> render_table; otherwise one
    rendered line per row (no header, no alignment). json_keyword=True makes
    "json" mean one compact JSON object per row (Docker >= 23; 20.10 prints the
    literal text "json" per row, which is the default here).
    """
    if fmt in ("", "table"):
        fmt = default_table
    if json_keyword and fmt == "json":
        return "".join(go_json(r) + "\n" for r in rows)
    table, body = _prepare(fmt)
    if table:
        return render_table(fmt, rows, headers, struct_type)
    return "".join(render(body, r, struct_type=struct_type) + "\n" for r in rows)
