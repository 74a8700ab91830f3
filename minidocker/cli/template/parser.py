"""Go's text/template parser: tokens from the lexer -> a tree of nodes.

Checks what Go checks at parse time: balanced {{if}}/{{range}}/{{with}} ... {{end}},
declared variables, known function names; errors are worded as Go's.
"""
from __future__ import annotations

import json
import re

from minidocker.cli.template.funcs import NAMES
from minidocker.cli.template.lexer import lex, parse_error
from minidocker.cli.template.nodes import Action, Block, Command, Operand, Pipe, Text


class Parser:
    def __init__(self, text: str):
        self.text = text
        self.items = lex(text)
        self.i = 0
        self.vars = [["$"]]

    def fail(self, msg: str, pos: int):
        raise parse_error(self.text, msg, pos)

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
            val = t.val[1:-1] if t.kind == "raw" else unquote(t.val)
            op, j = Operand(t.pos, kind="str", value=val), j + 1
        elif t.kind == "char":
            op, j = Operand(t.pos, kind="num", value=ord(unquote('"' + t.val[1:-1] + '"'))), j + 1
        elif t.kind == "num":
            op, j = Operand(t.pos, kind="num", value=number(t.val)), j + 1
        elif t.kind == "ident":
            if t.val in ("true", "false"):
                op = Operand(t.pos, kind="bool", value=t.val == "true")
            elif t.val == "nil":
                op = Operand(t.pos, kind="nil")
            elif t.val in NAMES:
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


def unquote(s: str) -> str:
    try:
        return json.loads(re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", s).replace("\\'", "'"))
    except ValueError:
        return s[1:-1]


def number(s: str):
    s = s.replace("_", "")
    try:
        return int(s, 0)
    except ValueError:
        return float(s)


def parse(template: str) -> list:
    """Parse only (raises TemplateError with parse=True)."""
    return Parser(template).parse()
