"""`network check`: probe every ordered pair of containers, compare with the policy.

``expected()`` is the policy, pure: what Docker 20.10's bridge networking lets
through. ``run_check()`` probes every (source, destination address) pair in
parallel with ``probe.probe_many`` and builds a ``CheckResult``;
``format_matrix()`` and ``to_json()`` present it.

The policy, per protocol:

- a container and one that joined it (``--network=container:X``), or two that
  joined the same one, share one network stack: everything is reachable;
- two containers on the same network: ARP (layer 2) always; ICMP/TCP/UDP only
  when the network has ICC on (``enable_icc=false`` drops IP between its
  containers, not ARP). ``--internal`` changes nothing between its own members;
- addresses on a network the source is not on: blocked, ARP included (no shared
  segment). An internal network is therefore unreachable from everywhere else;
- a ``--network=host`` source is the host itself: it reaches every container
  address over the bridges (the host holds each bridge's gateway address);
- a ``none`` container has no endpoint: it reaches nothing.

Callers describe a joined container with ``joined_to`` (``"container:NAME"`` or
``"NAME"``) and may leave its ``endpoints`` and ``netns`` empty: ``run_check``
takes them from the container it joined. A joined container has no addresses of
its own (as in ``docker inspect``), so it is a row of the matrix, not a column.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

PROTOS = ("arp", "icmp", "tcp", "udp")
LETTERS = {"arp": "A", "icmp": "I", "tcp": "T", "udp": "U"}


@dataclass
class Address:
    """One address of a target as the policy sees it: on which network (by name)
    and that network's two switches. Not engine.models.Endpoint (the plumbing of
    an attachment: veth, MAC, network id): this module is pure and knows only
    what ``expected()`` reads."""
    network: str
    ip: str
    internal: bool = False
    icc: bool = True


@dataclass
class Target:
    name: str
    netns: str | None                     # netns path; None = the caller's own (host)
    endpoints: list[Address] = field(default_factory=list)  # its addresses, one per network
    joined_to: str | None = None          # "container:NAME" (or "NAME")
    host: bool = False                    # --network=host


@dataclass
class Cell:
    source: str
    destination: str
    network: str
    ip: str
    observed: dict[str, bool]
    expected: dict[str, bool]

    @property
    def disagreements(self) -> list[str]:
        return [p for p in self.observed if self.observed[p] != self.expected[p]]


@dataclass
class CheckResult:
    protos: tuple[str, ...]
    sources: list[str]
    columns: list[tuple[str, str, str]]   # (container, network, ip)
    cells: list[Cell]
    elapsed: float = 0.0

    @property
    def violations(self) -> list[Cell]:
        return [c for c in self.cells if c.disagreements]

    @property
    def ok(self) -> bool:
        return not self.violations

    def cell(self, source: str, column: tuple[str, str, str]) -> Cell | None:
        for c in self.cells:
            if c.source == source and (c.destination, c.network, c.ip) == column:
                return c
        return None


# ------------------------------------------------------------------- policy

def _joined(t: Target) -> str | None:
    if not t.joined_to:
        return None
    return t.joined_to.split(":", 1)[1] if t.joined_to.startswith("container:") else t.joined_to


def same_stack(a: Target, b: Target) -> bool:
    """Do a and b share one network namespace?"""
    if a.name == b.name or (a.host and b.host):
        return True
    if a.netns is not None and a.netns == b.netns:
        return True
    ja, jb = _joined(a), _joined(b)
    return ja == b.name or jb == a.name or (ja is not None and ja == jb)


def expected(src: Target, dst: Target, dst_ip: str, dst_network: str,
             proto: str = "icmp") -> bool:
    """Should ``src`` reach ``dst``'s address ``dst_ip`` on ``dst_network`` with
    ``proto`` ("arp" is layer 2; "icmp"/"tcp"/"udp" follow ICC)? ``src`` must
    carry its effective endpoints (a joined container: those of the one it joined)."""
    if proto not in PROTOS:
        raise ValueError(f"unknown protocol {proto!r}")
    if same_stack(src, dst):
        return True
    if src.host:
        return True
    mine = next((e for e in src.endpoints if e.network == dst_network), None)
    if mine is None:
        return False
    theirs = next((e for e in dst.endpoints if e.network == dst_network and e.ip == dst_ip), None)
    icc = mine.icc and (theirs.icc if theirs else True)
    return True if proto == "arp" else icc


def expected_all(src: Target, dst: Target, dst_ip: str, dst_network: str,
                 protos=PROTOS) -> dict[str, bool]:
    return {p: expected(src, dst, dst_ip, dst_network, p) for p in protos}


def resolve(targets: list[Target]) -> list[Target]:
    """Copies of ``targets`` where a joined container carries the netns and the
    endpoints of the container it (transitively) joined."""
    by_name = {t.name: t for t in targets}
    out = []
    for t in targets:
        root, seen = t, {t.name}
        while _joined(root) and _joined(root) in by_name and _joined(root) not in seen:
            root = by_name[_joined(root)]
            seen.add(root.name)
        out.append(Target(t.name, t.netns if t.netns is not None else root.netns,
                          list(t.endpoints) or list(root.endpoints), t.joined_to,
                          t.host or root.host))
    return out


# -------------------------------------------------------------------- probe

def run_check(targets: list[Target], protos=PROTOS, timeout: float = 0.5, *,
              port: int = 9, workers: int = 16, relax_ratelimit: bool = True,
              prober=None) -> CheckResult:
    """Probe every ordered pair (source, destination address) in parallel.

    ``relax_ratelimit`` lifts ICMP-error rate limits in the targets' own
    namespaces for the duration (never the host's: host-mode targets and
    targets without a netns path are skipped). ``prober`` replaces
    ``probe.probe_many`` (same signature) in tests."""
    from minidocker.observe import probe as probe_mod
    protos = tuple(protos)
    started = time.monotonic()
    eff = resolve(targets)
    columns = [(t.name, e.network, e.ip) for t in targets if not _joined(t) for e in t.endpoints]
    by_name = {t.name: t for t in eff}
    sources = [t for t in eff if t.netns is not None or t.host]  # skip the unplaced
    pairs = [(s, col) for s in sources for col in columns if col[0] != s.name]
    jobs = [(s.netns, col[2]) for s, col in pairs]
    run = prober or probe_mod.probe_many
    owned = [t.netns for t in eff if t.netns and not t.host] if relax_ratelimit else []
    ctx = probe_mod.icmp_errors_unlimited(owned) if owned and prober is None else _null()
    with ctx:
        observed = run(jobs, protos=protos, timeout=timeout, workers=workers, port=port) if jobs else []
    cells = [Cell(s.name, col[0], col[1], col[2], obs,
                  expected_all(s, by_name[col[0]], col[2], col[1], protos))
             for (s, col), obs in zip(pairs, observed)]
    return CheckResult(protos, [t.name for t in sources], columns, cells, time.monotonic() - started)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------- formatting

def _cell_text(cell: Cell | None, protos) -> str:
    if cell is None:
        return "-"
    text = "".join(LETTERS[p] if cell.observed[p] else "." for p in protos)
    return text + ("!" if cell.disagreements else " ")


def format_matrix(result: CheckResult) -> str:
    """Rows = sources, columns = destination addresses; a cell shows one letter
    per reachable protocol, '.' per blocked one, and '!' when it disagrees with
    the policy."""
    protos = result.protos
    head1 = ["SOURCE"] + [f"{n}@{net}" for n, net, _ in result.columns]
    head2 = [""] + [ip for _, _, ip in result.columns]
    rows = [[src] + [_cell_text(result.cell(src, col), protos) for col in result.columns]
            for src in result.sources]
    widths = [max(len(r[i]) for r in [head1, head2, *rows]) for i in range(len(head1))]

    def line(cells):
        return "   ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(head1), line(head2)] + [line(r) for r in rows]
    legend = ", ".join(f"{LETTERS[p]}={p}" for p in protos)
    out += ["", f"{legend}: letter = reachable, '.' = blocked, '!' = disagrees with the "
                "network policy, '-' = the container itself"]
    v = result.violations
    if v:
        out.append(f"{len(v)} violation{'s' if len(v) != 1 else ''}:")
        for c in v:
            diffs = ", ".join(f"{p} {'reachable' if c.observed[p] else 'blocked'} "
                              f"(expected {'reachable' if c.expected[p] else 'blocked'})"
                              for p in c.disagreements)
            out.append(f"  {c.source} -> {c.destination}@{c.network} {c.ip}: {diffs}")
    else:
        out.append(f"no violation ({len(result.cells)} pairs probed in {result.elapsed:.2f}s)")
    return "\n".join(out)


def to_json(result: CheckResult) -> dict:
    def cell(c: Cell) -> dict:
        return {"Source": c.source, "Destination": c.destination, "Network": c.network,
                "IPAddress": c.ip, "Observed": dict(c.observed), "Expected": dict(c.expected),
                "Violation": c.disagreements}
    return {
        "Protocols": list(result.protos),
        "OK": result.ok,
        "Elapsed": round(result.elapsed, 3),
        "Sources": list(result.sources),
        "Destinations": [{"Name": n, "Network": net, "IPAddress": ip} for n, net, ip in result.columns],
        "Cells": [cell(c) for c in result.cells],
        "Violations": [cell(c) for c in result.violations],
    }
