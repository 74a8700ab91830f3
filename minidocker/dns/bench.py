"""Latency/throughput of the embedded DNS as seen from inside a netns.

``measure`` keeps 1 or more queries outstanding on one UDP socket (raw bytes, no
parsing in the loop, so the client costs little next to the server) and reports
queries per second and the latency distribution. ``python -m minidocker.dns.bench``
runs a DNSServer of its own in a throwaway netns against it (to profile the server
without a daemon: py-spy record -- python -m minidocker.dns.bench ...), or with
``--netns /proc/PID/ns/net`` measures the resolver a container sees (any daemon's).
"""
from __future__ import annotations

import os
import selectors
import socket
import statistics
import struct
import time

from minidocker.network import namespaces

LISTEN = "127.0.0.11"


def question(name: str, qtype: int = 1) -> bytes:
    """A query for ``name`` (id 0, RD set) as raw bytes."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".") if p)
    return struct.pack("!HHHHHH", 0, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


def _pct(lat: list[float], q: float) -> float | None:
    if not lat:
        return None
    s = sorted(lat)
    return round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 3)


def _run(names: list[str], n: int, server: str, timeout: float, outstanding: int) -> dict:
    """n queries (cycling through ``names``), ``outstanding`` in flight at a time."""
    queries = [question(nm) for nm in names]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((server, 53))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    sent_at: dict[int, float] = {}
    lat: list[float] = []
    rcodes: dict[int, int] = {}
    sent = errors = 0
    nq = len(queries)
    start = time.perf_counter()

    def send_one() -> None:
        nonlocal sent
        qid = sent & 0xFFFF
        q = queries[sent % nq]
        sent_at[qid] = time.perf_counter()
        s.send(qid.to_bytes(2, "big") + q[2:])
        sent += 1

    try:
        while sent < n and len(sent_at) < outstanding:
            send_one()
        while sent_at:
            if not sel.select(timeout):
                errors += len(sent_at)  # everything still outstanding is lost
                sent_at.clear()
                while sent < n and len(sent_at) < outstanding:
                    send_one()
                continue
            while True:
                try:
                    reply = s.recv(4096)
                except BlockingIOError:
                    break
                except ConnectionRefusedError:
                    continue
                t0 = sent_at.pop(int.from_bytes(reply[:2], "big"), None)
                if t0 is None:
                    continue
                lat.append(time.perf_counter() - t0)
                rc = reply[3] & 0xF
                rcodes[rc] = rcodes.get(rc, 0) + 1
                if sent < n:
                    send_one()
    finally:
        sel.close()
        s.close()
    total = time.perf_counter() - start
    return {
        "n": n, "outstanding": outstanding, "errors": errors, "rcodes": rcodes,
        "qps": round(len(lat) / total, 1) if total > 0 else 0.0,
        "median_ms": round(statistics.median(lat) * 1000, 3) if lat else None,
        "p99_ms": _pct(lat, 0.99),
    }


def measure(netns_path: str | None, name: str | list[str], n: int = 1000, server: str = "127.0.0.11",
            timeout: float = 2.0, outstanding: int = 1) -> dict:
    """A queries for ``name`` (or for each of a list in turn) from inside ``netns_path``,
    ``outstanding`` in flight: returns n, errors, rcodes, qps, median_ms, p99_ms."""
    names = [name] if isinstance(name, str) else list(name)
    return namespaces.run_in_netns(netns_path, _run, names, n, server, timeout, outstanding)


def _dnsperf(path: str, name: str, outstanding: int, seconds: float) -> dict:
    import re
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".dnsperf") as f:
        f.write(f"{name} A\n")
        f.flush()
        out = subprocess.run(["nsenter", f"--net={path}", "dnsperf", "-s", LISTEN, "-d", f.name, "-l", str(seconds),
                              "-q", str(outstanding), "-c", "1", "-t", "1"], capture_output=True, text=True).stdout
    grab = lambda rx: float(re.search(rx, out).group(1))  # noqa: E731
    return {"outstanding": outstanding, "qps": grab(r"Queries per second:\s+([\d.]+)"),
            "avg_us": round(grab(r"Average Latency \(s\):\s+([\d.]+)") * 1e6, 1),
            "lost": int(grab(r"Queries lost:\s+(\d+)"))}


def _standalone(n: int, outstanding: int, name: str, dnsperf_seconds: float = 0) -> dict:
    """A DNSServer in a netns of its own, measured from that netns (by our client, or
    by dnsperf for ``dnsperf_seconds``)."""
    import tempfile
    from minidocker.dns.embedded import DNSServer
    from minidocker.dns.records import Table
    table = Table()
    table.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.2", ["www"])
    pins = tempfile.mkdtemp(prefix="dnsbench")
    namespaces.ensure_private_dir(pins)
    path = os.path.join(pins, "c")
    namespaces.create_netns(path)
    srv = DNSServer(table, lambda: [])
    try:
        namespaces.run_in_netns(path, lambda: __import__("subprocess").run(["ip", "link", "set", "lo", "up"]))
        srv.start()
        srv.attach("c", path, ["n1"], [], False)
        measure(path, name, min(n, 2000), outstanding=outstanding)  # warm-up
        if dnsperf_seconds:
            return _dnsperf(path, name, outstanding, dnsperf_seconds)
        return measure(path, name, n, outstanding=outstanding)
    finally:
        srv.stop()
        namespaces.delete_netns(path)
        namespaces.umount(pins, namespaces.MNT_DETACH)
        os.rmdir(pins)


if __name__ == "__main__":
    import argparse
    import json
    ap = argparse.ArgumentParser(description=_standalone.__doc__)
    ap.add_argument("-n", type=int, default=50000)
    ap.add_argument("-q", "--outstanding", type=int, default=50)
    ap.add_argument("--name", default="web")
    ap.add_argument("--dnsperf", type=float, default=0, metavar="SECONDS", help="measure with dnsperf instead")
    ap.add_argument("--netns", metavar="PATH", help="measure the server of this netns (/proc/PID/ns/net) instead")
    a = ap.parse_args()
    if a.netns:
        measure(a.netns, a.name, min(a.n, 500), outstanding=a.outstanding)  # warm-up
        print(json.dumps(measure(a.netns, a.name, a.n, outstanding=a.outstanding)))
    else:
        print(json.dumps(_standalone(a.n, a.outstanding, a.name, a.dnsperf)))
