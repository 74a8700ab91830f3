"""The parse tree of a Go template: text, actions, pipelines and if/range/with blocks.

Every node keeps its offset in the template (`pos`) and its source text (`src`)
for Go's error messages (`executing "" at <SRC>: ...`).
"""
from __future__ import annotations

from dataclasses import dataclass, field as dfield

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
