"""Go's text/tabwriter, as docker aligns its tables: NewWriter(out, 10, 1, 3, ' ', 0)."""


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
