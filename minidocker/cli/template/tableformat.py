"""docker 20.10's `--format` for listing commands (ps, network ls, images):
`table` templates with a header row and aligned columns, or one line per row.
"""
from __future__ import annotations

from minidocker.cli.template.executor import render
from minidocker.cli.template.tabwriter import tabwrite
from minidocker.cli.template.values import go_json


def prepare(fmt: str) -> tuple[bool, str]:
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
    _, body = prepare(template)
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
    table, body = prepare(fmt)
    if table:
        return render_table(fmt, rows, headers, struct_type)
    return "".join(render(body, r, struct_type=struct_type) + "\n" for r in rows)
