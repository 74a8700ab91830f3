"""Latency/throughput of the embedded DNS as seen from inside a netns."""
from __future__ import annotations

import random
import socket
import statistics
import time

from dnslib import DNSRecord

from minidocker.network import namespaces


def _run(name: str, n: int, server: str, timeout: float) -> dict:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.connect((server, 53))
    lat: list[float] = []
    errors = 0
    q = DNSRecord.question(name)
    start = time.perf_counter()
    try:
        for _ in range(n):
            q.header.id = random.randrange(0x10000)
            data = q.pack()
            t0 = time.perf_counter()
            s.send(data)
            try:
                while True:
                    reply = s.recv(4096)
                    if reply[:2] == data[:2]:
                        break
            except socket.timeout:
                errors += 1
                continue
            lat.append(time.perf_counter() - t0)
    finally:
        s.close()
    total = time.perf_counter() - start
    return {
        "n": n,
        "errors": errors,
        "qps": round(len(lat) / total, 1) if total > 0 else 0.0,
        "median_ms": round(statistics.median(lat) * 1000, 3) if lat else None,
        "p99_ms": round(sorted(lat)[int(len(lat) * 0.99) - 1] * 1000, 3) if lat else None,
    }


def measure(netns_path: str | None, name: str, n: int = 1000, server: str = "127.0.0.11",
            timeout: float = 2.0) -> dict:
    """Sequential A queries for ``name`` from inside ``netns_path`` (one in flight):
    returns n, errors, qps, median_ms, p99_ms."""
    return namespaces.run_in_netns(netns_path, _run, name, n, server, timeout)
