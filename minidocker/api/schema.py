"""Request bodies decoded as dockerd's Go structs decode them (encoding/json):
field names matched exactly or case-insensitively, unknown fields ignored, null
leaves a field unset, and a wrong type refused with Go's own message:

    json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig

A schema is a ``Struct`` (Go type name, and its fields' kinds); a kind is one of
the strings below, a Struct, ``ListOf(kind)`` or ``MapOf(kind)``. ``decode``
returns plain dicts holding only the fields that were given (with their schema
spelling), so handlers read them with ``.get``.
"""
import json

from minidocker.api import framing
from minidocker.errors import InvalidArgument
from minidocker.validation import go_json_kind

# scalar kinds: Go type name -> accepted Python JSON types
SCALARS = {"string": (str,), "bool": (bool,), "int": (int,), "int64": (int,), "uint16": (int,),
           "float64": (int, float), "interface {}": (object,)}


class Struct:
    def __init__(self, name: str, gotype: str, fields: dict):
        self.name, self.gotype, self.fields = name, gotype, fields


class ListOf:
    def __init__(self, kind):
        self.kind = kind


class MapOf:
    def __init__(self, kind, gotype: str = ""):
        self.kind, self.gotype = kind, gotype  # gotype: a named map type (nat.PortSet)


def gotype(kind) -> str:
    if isinstance(kind, Struct):
        return kind.gotype
    if isinstance(kind, ListOf):
        return "[]" + gotype(kind.kind)
    if isinstance(kind, MapOf):
        return kind.gotype or "map[string]" + gotype(kind.kind)
    return "string" if kind == "strslice" else kind


class _Mismatch(Exception):
    pass


def _value(value, kind, struct: str, path: list):
    """``value`` checked against ``kind``; ``struct``/``path``: where we are, for the message."""
    if value is None:
        return None
    where = f"Go struct field {struct}.{'.'.join(path)}" if path else "Go value"

    def refuse(desc=None):
        raise _Mismatch(f"json: cannot unmarshal {desc or go_json_kind(value)} into {where} of type {gotype(kind)}")
    if isinstance(kind, Struct):
        if not isinstance(value, dict):
            refuse()
        return _struct(value, kind, path)
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            refuse()
        return [_value(v, kind.kind, struct, path) for v in value]
    if isinstance(kind, MapOf):
        if not isinstance(value, dict):
            refuse()
        return {k: _value(v, kind.kind, struct, path) for k, v in value.items()}
    if kind == "strslice":  # Docker's strslice.StrSlice: one string, or a list of them
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            refuse()
        for v in value:
            if not isinstance(v, str):
                raise _Mismatch(f"json: cannot unmarshal {go_json_kind(v)} into {where} of type string")
        return value
    accepted = SCALARS[kind]
    if kind in ("int", "int64", "uint16") and isinstance(value, float):
        refuse(f"number {value:g}")
    if kind != "interface {}" and (not isinstance(value, accepted) or
                                   (bool not in accepted and isinstance(value, bool))):
        refuse()
    return value


def _struct(obj: dict, schema: Struct, path: list) -> dict:
    out = {}
    lower = {name.lower(): name for name in schema.fields}
    for key, value in obj.items():
        name = key if key in schema.fields else lower.get(key.lower())
        if name is None:
            continue  # unknown fields are ignored, as Go ignores them
        out[name] = _value(value, schema.fields[name], schema.name, path + [name])
    return out


def syntax_message(body: bytes, ex: json.JSONDecodeError) -> str:
    """Go's words for a body that is not JSON."""
    text = ex.doc
    rest = text[ex.pos:].strip()
    if not rest or ex.msg.startswith(("Expecting value", "Unterminated")) and ex.pos >= len(text.rstrip()):
        return "unexpected EOF"
    for literal in ("null", "true", "false"):
        if rest[0] == literal[0]:
            for i, ch in enumerate(rest[:len(literal)]):
                if ch != literal[i]:
                    return f"invalid character {ch!r} in literal {literal} (expecting {literal[i]!r})"
            if len(rest) < len(literal):
                return "unexpected EOF"
    return f"invalid character {rest[0]!r} looking for beginning of value"


def bad_json_message(ex: framing.BadJSON) -> str:
    return syntax_message(ex.syntax.doc, ex.syntax) if ex.syntax is not None else str(ex)


def decode(body: bytes, schema: Struct, error=InvalidArgument, empty: str = "got EOF while reading request body"):
    """The body as ``schema`` (Docker's 400 for what Go would not decode; ``error``
    another type: containers/create answers 500)."""
    if not body.strip():
        raise error(empty)
    try:
        obj = framing.loads(body)
    except framing.BadJSON as ex:
        raise error(bad_json_message(ex)) from None
    return check(obj, schema, error)


def check(obj, schema: Struct, error=InvalidArgument) -> dict:
    """Decoded JSON checked as ``schema`` (only the fields given, schema spelling)."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise error(f"json: cannot unmarshal {go_json_kind(obj)} into Go value of type {schema.gotype}")
    try:
        return _struct(obj, schema, [])
    except _Mismatch as ex:
        raise error(str(ex)) from None
