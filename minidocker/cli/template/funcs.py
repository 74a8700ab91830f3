"""The functions a template can call: Go's builtins (and, or, not, len, index, slice,
print*, eq/ne/lt/le/gt/ge) and docker's (json, join, split, title, lower, upper,
pad, truncate), with Go's argument checks and error texts.
"""
from __future__ import annotations

from minidocker.cli.template.values import MISSING, go_json, go_sprint, go_sprintf, go_str, go_type, truth

NAMES = {"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne",
         "lt", "le", "gt", "ge", "json", "join", "split", "title", "lower", "upper",
         "pad", "truncate", "slice"}
# docker's HeaderFunctions: these print the header text unchanged
HEADER_IDENTITY = {"json", "split", "join", "title", "lower", "upper", "pad", "truncate"}


class CallError(Exception):
    """A call failed; the executor reports it as a TemplateError at the call's position
    (`error calling NAME: MSG`, or just MSG when `bare`). Never leaves the package."""

    def __init__(self, msg, bare=False):
        super().__init__(msg)
        self.bare = bare


def need(args, n, name):
    if len(args) != n:
        raise CallError(f"wrong number of args for {name}: want {n} got {len(args)}", bare=True)


def cmp_ok(a, b):
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, num) and isinstance(b, num):
        return True
    return type(a) is type(b) and isinstance(a, str)


def title(s: str) -> str:
    out, prev_sep = [], True
    for ch in s:
        out.append(ch.upper() if prev_sep else ch)
        prev_sep = not (ch.isalnum() or ch == "_")
    return "".join(out)


def call(name: str, args: list):
    a = [None if x is MISSING else x for x in args]
    if name == "and":
        for x in args:
            if not truth(x):
                return x
        return args[-1] if args else MISSING
    if name == "or":
        for x in args:
            if truth(x):
                return x
        return args[-1] if args else MISSING
    if name == "not":
        need(a, 1, name)
        return not truth(args[0])
    if name == "len":
        need(a, 1, name)
        if isinstance(a[0], (str, list, tuple, dict)) :
            return len(a[0].encode() if isinstance(a[0], str) else a[0])
        raise CallError(f"len of type {go_type(a[0])}" if a[0] is not None else "len of nil pointer")
    if name == "index":
        cur = a[0] if a else None
        for key in a[1:]:
            if isinstance(cur, dict):
                if key in cur:
                    cur = cur[key]
                else:
                    cur = "" if all(isinstance(v, str) for v in cur.values()) else MISSING
            elif isinstance(cur, (list, tuple, str)):
                if not isinstance(key, int) or isinstance(key, bool):
                    raise CallError(f"cannot index slice/array with type {go_type(key)}")
                if not 0 <= key < len(cur):
                    raise CallError(f"index out of range: {key}")
                cur = cur.encode()[key] if isinstance(cur, str) else cur[key]
            elif cur is None:
                raise CallError("index of untyped nil")
            else:
                raise CallError(f"can't index item of type {go_type(cur)}")
        return cur
    if name == "slice":
        cur = a[0]
        idx = a[1:]
        return cur[idx[0] if idx else 0: idx[1] if len(idx) > 1 else None]
    if name == "print":
        return go_sprint(a)
    if name == "println":
        return " ".join(go_str(x, top=False) if x is not None else "<nil>" for x in a) + "\n"
    if name == "printf":
        if not a or not isinstance(a[0], str):
            raise CallError("wrong type for value; expected string", bare=False)
        return go_sprintf(a[0], args[1:])
    if name in ("eq", "ne", "lt", "le", "gt", "ge"):
        if len(a) < 2:
            raise CallError("missing argument for comparison")
        if name in ("eq",):
            for b in a[1:]:
                if not cmp_ok(a[0], b):
                    raise CallError("incompatible types for comparison")
            return any(a[0] == b for b in a[1:])
        need(a, 2, name)
        if not cmp_ok(a[0], a[1]):
            raise CallError("incompatible types for comparison")
        x, y = a
        return {"ne": x != y, "lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[name]
    if name == "json":
        need(a, 1, name)
        return go_json(args[0])
    if name == "join":
        need(a, 2, name)
        if not isinstance(a[0], (list, tuple)):
            raise CallError(f"wrong type for value; expected []string; got {go_type(a[0])}", bare=True)
        return str(a[1]).join(go_str(x, top=False) for x in a[0])
    if name == "split":
        need(a, 2, name)
        return str(a[0]).split(str(a[1])) if a[1] else list(str(a[0]))
    if name in ("lower", "upper", "title"):
        need(a, 1, name)
        if not isinstance(a[0], str):
            raise CallError(f"wrong type for value; expected string; got {go_type(a[0])}", bare=True)
        return {"lower": str.lower, "upper": str.upper, "title": title}[name](a[0])
    if name == "pad":
        need(a, 3, name)
        return " " * int(a[1]) + str(a[0]) + " " * int(a[2])
    if name == "truncate":
        need(a, 2, name)
        return str(a[0])[:int(a[1])]
    raise CallError(f'function "{name}" not defined', bare=True)

