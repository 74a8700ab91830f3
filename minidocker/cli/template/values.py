"""Template values as Go prints them: fmt's %v and Sprintf, json.Marshal, truth, type names.

Data is nested dict/list/str/int/float/bool/None; `Struct` is a dict that prints
like a Go struct and `MISSING` is Go's invalid value (`<no value>`).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal

MISSING = object()   # Go's invalid reflect.Value ("<no value>")


class Struct(dict):
    """A dict that prints like a Go struct: `{v1 v2}` (values in order)."""


class NilMap(dict):
    """A Go map field left nil: prints `map[]`, marshals to null."""


class NilSlice(list):
    """A Go slice field left nil: prints `[]`, marshals to null."""


class _NilPtr:
    """A Go pointer field left nil: prints `<nil>`, marshals to null."""


NIL_PTR = _NilPtr()


def go_float(v: float) -> str:
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
    if v is MISSING:
        return "<no value>"
    if v is NIL_PTR:
        return "<nil>"
    if v is None:
        return "<no value>" if top else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return go_float(v)
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
        if x is MISSING or x is NIL_PTR or isinstance(x, (NilMap, NilSlice)):
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


def truth(v) -> bool:
    if v is MISSING or v is None or v is NIL_PTR:
        return False
    return bool(v)


def go_type(v) -> str:
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


VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])")


def go_sprintf(fmt: str, args: list) -> str:
    out, k, pos = [], 0, 0
    for m in VERB.finditer(fmt):
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
            s = go_str(a, top=False) if a is not MISSING else "<nil>"
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
            s = format(float(a), f".{prec or 6}{verb}") if verb != "g" else go_float(float(a))
        else:
            s = f"%!{verb}({go_type(a)}={go_str(a, top=False)})"
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
        out.append("%!(EXTRA " + ", ".join(f"{go_type(a)}={go_str(a, top=False)}" for a in args[k:]) + ")")
    return "".join(out)


def go_sprint(args: list) -> str:
    out = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a, top=False) if a is not None else "<nil>")
    return "".join(out)

