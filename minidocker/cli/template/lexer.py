"""Go's text/template lexer: a template's text and its `{{...}}` actions, split into tokens.

Handles Go's trim markers (`{{- ` and ` -}}`) and comments (`{{/* ... */}}`).
Errors are parse errors, worded as Go's (`template: :LINE: MSG`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from minidocker.errors import TemplateError

TOKEN = re.compile(r"""
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


def parse_error(text: str, msg: str, pos: int) -> TemplateError:
    """A parse error at offset `pos` of `text`, as Go words it (line number only)."""
    line = text.count("\n", 0, pos) + 1
    return TemplateError(f"template: :{line}: {msg}", parse=True)


def lex(text: str) -> list:
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
                raise parse_error(text, "unclosed comment", start)
            close = text.find("}}", c_end)
            if close < 0:
                raise parse_error(text, "unclosed action", start)
            trim_next = text[c_end + 2:close].strip() == "-"
            pos = close + 2
            continue
        toks, p, trim_next = [], inner, False
        while True:
            if p >= n:
                raise parse_error(text, "unclosed action", start)
            if text.startswith("}}", p):
                p += 2
                break
            if text.startswith(" -}}", p) or text.startswith("\t-}}", p) or text.startswith("\n-}}", p):
                trim_next = True
                p += 4
                break
            m = TOKEN.match(text, p)
            if not m:
                ch = text[p]
                if ch == "\n":
                    raise parse_error(text, "unclosed action", start)
                raise parse_error(text, f"bad character U+{ord(ch):04X} '{ch}'", p)
            if m.lastgroup != "ws":
                toks.append(Tok(m.lastgroup, m.group(), p))
            p = m.end()
        out.append(("action", toks, start, p))
        pos = p
        if pos >= n:
            break
    return out
