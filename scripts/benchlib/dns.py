"""DNS rows: latency and queries per second of each daemon's embedded DNS server,
seen from inside a client container's network namespace, for a container's name,
an alias and an unknown name: with 1 query outstanding by our own client
(minidocker.dns.bench --netns: median latency; dnsperf paces single queries
poorly), with 1 and with 50 by dnsperf (nsenter --net; average latency and qps).
The same clients for both daemons.

Unknown names are forwarded by both daemons to the client's --dns server: a small
NXDOMAIN responder this module runs on the host, on the gateway address of the
benchmark's own network, so no query leaves the machine.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading

from .common import PREFIX, VENV_PY, Results, Side

NET, CLIENT, SERVER, ALIAS = PREFIX + "_dns", PREFIX + "_c", PREFIX + "_y", PREFIX + "_alias"
NAMES = [("known name", SERVER), ("alias", ALIAS), ("unknown name", "nx.mdbench.test")]


class NxResponder(threading.Thread):
    """Answers every query NXDOMAIN (the question echoed, no records)."""

    def __init__(self, addr: str):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((addr, 53))

    def run(self) -> None:
        s = self.sock
        while True:
            try:
                data, peer = s.recvfrom(4096)
            except OSError:
                return
            if len(data) < 12:
                continue
            flags = 0x8183 | ((data[2] & 0x01) << 8)  # QR, RD copied, RA, NXDOMAIN
            s.sendto(data[:2] + flags.to_bytes(2, "big") + data[4:6] + b"\0\0\0\0\0\0" + data[12:], peer)

    def close(self) -> None:
        self.sock.close()


def setup(side: Side) -> NxResponder:
    teardown(side)
    subnet, gw = side.subnet(3)
    side("network", "create", "--subnet", subnet, NET)
    responder = NxResponder(gw)
    responder.start()
    side("run", "-d", "--name", SERVER, "--network", NET, "--network-alias", ALIAS, "busybox", "sleep", "3600")
    side("run", "-d", "--name", CLIENT, "--network", NET, "--dns", gw, "busybox", "sleep", "3600")
    return responder


def teardown(side: Side) -> None:
    side("rm", "-f", CLIENT, SERVER, check=False)
    side("network", "rm", NET, check=False)


def dnsperf(pid: int, name: str, outstanding: int, seconds: float) -> tuple[float, float, int]:
    """(queries per second, average latency in µs, queries lost)."""
    with tempfile.NamedTemporaryFile("w", suffix=".dnsperf") as f:
        f.write(f"{name} A\n")
        f.flush()
        out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "dnsperf", "-s", "127.0.0.11", "-d", f.name,
                              "-l", str(seconds), "-q", str(outstanding), "-c", "1", "-t", "1"],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    lat = float(re.search(r"Average Latency \(s\):\s+([\d.]+)", out).group(1)) * 1e6
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    return qps, lat, lost


def own_client(pid: int, name: str, n: int) -> dict:
    """Our client (one query in flight): median latency and qps."""
    out = subprocess.run([VENV_PY, "-m", "minidocker.dns.bench", "--netns", f"/proc/{pid}/ns/net", "--name", name,
                          "-n", str(n), "-q", "1"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"minidocker.dns.bench: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


def ensure_dnsperf(progress) -> bool:
    """dnsperf from Debian (installed here if missing, as --plot installs matplotlib)."""
    if shutil.which("dnsperf"):
        return True
    progress("installing dnsperf (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "dnsperf"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(install, env=env, capture_output=True)
    return shutil.which("dnsperf") is not None


def measure(sides: list[Side], runs: int, seconds: float, res: Results, progress=lambda msg: None) -> None:
    with_dnsperf = ensure_dnsperf(progress)
    if not with_dnsperf:
        res.notes.append("dns: dnsperf could not be installed (apt-get install dnsperf): "
                         "only our own client's rows (1 outstanding)")
    responders = {}
    try:
        for side in sides:
            responders[side.name] = setup(side)
        pids = {side.name: side.pid_of(CLIENT) for side in sides}
        for i in range(runs):
            for side in (sides if i % 2 == 0 else sides[::-1]):
                for what, name in NAMES:
                    own = own_client(pids[side.name], name, int(2000 * seconds))
                    res.add(f"DNS {what}, 1 outstanding: median latency (own client)", side.name,
                            own["median_ms"] * 1000, "µs")
                    res.add(f"DNS {what}, 1 outstanding: qps (own client)", side.name, own["qps"], "qps",
                            higher_is_better=True)
                    if own["errors"]:
                        res.notes.append(f"dns: {side.name} {what}: {own['errors']} queries unanswered")
                    for q in (1, 50) if with_dnsperf else ():
                        qps, lat, lost = dnsperf(pids[side.name], name, q, seconds)
                        if q > 1:
                            res.add(f"DNS {what}, {q} outstanding: qps (dnsperf)", side.name, qps, "qps",
                                    higher_is_better=True)
                        res.add(f"DNS {what}, {q} outstanding: avg latency (dnsperf)", side.name, lat, "µs")
                        if lost:
                            res.notes.append(f"dns: {side.name} {what} q={q}: {lost} queries lost")
    finally:
        for side in sides:
            teardown(side)
        for r in responders.values():
            r.close()
