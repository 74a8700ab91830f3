"""Go's text/template executor: walks the parse tree over the data and writes the output.

Field lookups, variables and scopes, if/range/with, pipelines and function calls,
with Go's execution errors (`template: :L:C: executing "" at <SRC>: MSG`).
"""
from __future__ import annotations

from minidocker.cli.template import funcs
from minidocker.cli.template.nodes import Action, Block, Command, Node, Operand, Pipe, Text
from minidocker.cli.template.parser import parse
from minidocker.cli.template.values import MISSING, Struct, go_str, truth
from minidocker.errors import TemplateError

NOFINAL = object()   # a pipeline's first command gets no piped-in value


class Executor:
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
        return MISSING

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
                self.walk(b.body if truth(val) else b.orelse, dot)
            elif b.kind == "with":
                self.walk(b.body, val) if truth(val) else self.walk(b.orelse, dot)
            else:
                self.range(b, val, dot)
        finally:
            self.vars.pop()

    def range(self, b: Block, val, dot):
        if val is MISSING or val is None:
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
        val = MISSING
        for i, cmd in enumerate(p.cmds):
            val = self.command(cmd, dot, val if i > 0 else NOFINAL)
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
            if final is not NOFINAL:
                args.append(final)
            return self.call(first.value, args, cmd)
        if len(cmd.args) > 1 or final is not NOFINAL:
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
                    recv = MISSING
            elif recv is MISSING:
                if self.missingkey == "error":
                    self.fail(node, f'nil data; no entry for key "{name}"')
                return MISSING
            elif recv is None:
                self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
            else:
                self.fail(node, f"can't evaluate field {name} in type interface {{}}")
        return recv

    def call(self, name: str, args: list, cmd: Command):
        if self.header and name in funcs.HEADER_IDENTITY and args:
            return args[0]
        try:
            return funcs.call(name, args)
        except funcs.CallError as e:
            self.fail(cmd, f"error calling {name}: {e}" if not e.bare else str(e))


def render(template: str, data, missingkey: str = "error", struct_type: str | None = None,
           header: bool = False) -> str:
    """Execute `template` on `data`.

    missingkey="error" (docker inspect's map fallback): a missing map key is an
    error `map has no entry for key "K"`; "default": it prints `<no value>`.
    struct_type="*network.networkContext": a missing top-level key reads like a
    missing struct field, `can't evaluate field K in type T` (docker ls rows).
    """
    tree = parse(template)
    ex = Executor(template, missingkey, struct_type, data)
    ex.header = header
    ex.walk(tree, data)
    return "".join(ex.out)

