"""A firewall that repairs itself: any drift of our table (flushed, rules deleted
or added, table deleted) or of ip_forward is noticed and restored in one
transaction; the isolation holes while it lasts are counted."""
import re
import subprocess
import threading
import time

import pytest

from minidocker.firewall import drift, nft

from .enginehelp import ex, run


def _sh(*argv) -> None:
    subprocess.run(list(argv), check=True, capture_output=True)


def _isolation_handle() -> str:
    out = subprocess.run(["nft", "-a", "list", "chain", "inet", "minidocker", "forward"],
                         capture_output=True, text=True, check=True).stdout
    return re.search(r'isolation between networks" # handle (\d+)', out).group(1)


VARIANTS = {
    "flush table": lambda: _sh("nft", "flush", "table", "inet", "minidocker"),
    "flush forward chain": lambda: _sh("nft", "flush", "chain", "inet", "minidocker", "forward"),
    "delete the isolation rule": lambda: _sh("nft", "delete", "rule", "inet", "minidocker", "forward",
                                             "handle", _isolation_handle()),
    "add a foreign rule": lambda: _sh("nft", "insert", "rule", "inet", "minidocker", "forward", "accept"),
    "delete table": lambda: _sh("nft", "delete", "table", "inet", "minidocker"),
    "ip_forward off": lambda: open("/proc/sys/net/ipv4/ip_forward", "w").write("0"),
}


@pytest.fixture
def two_networks(engine):
    engine.net.create("fwa", subnet="10.67.0.0/24")
    engine.net.create("fwb", subnet="10.68.0.0/24")
    a = run(engine, name="fa", network="fwa")
    b = run(engine, name="fb", network="fwb")
    engine.watch_firewall()
    return a, b


def _restored(engine) -> bool:
    with engine.lock:
        return engine.firewall_drift() == "" and drift.fingerprint(nft.TABLE) == engine.fw_applied[0]


def test_every_drift_is_repaired(engine, two_networks):
    a, b = two_networks
    assert _restored(engine)
    for name, change in VARIANTS.items():
        t0 = time.monotonic()
        change()
        deadline = t0 + 20
        time.sleep(0.001)
        while time.monotonic() < deadline and not _restored(engine):
            time.sleep(0.005)
        assert _restored(engine), name
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            assert f.read().strip() == "1"
        print(f"drift '{name}': repaired after {1000 * (time.monotonic() - t0):.0f} ms")
        assert ex(engine, a, "ping", "-c1", "-W1", "10.68.0.2")[0] == 1, name  # isolated again


def test_isolation_holes_during_a_flush_are_counted(engine, two_networks):
    """Pings from one network to the other, every 10 ms, while the forward chain is
    flushed: the number that get through is the hole the repair leaves."""
    a, b = two_networks
    out = {}

    def ping():
        out["r"] = ex(engine, a, "ping", "-q", "-i", "0.01", "-w", "3", "10.68.0.2")

    t = threading.Thread(target=ping)
    t.start()
    time.sleep(1.0)
    _sh("nft", "flush", "chain", "inet", "minidocker", "forward")
    t.join()
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out["r"][1])
    sent, holes = int(m.group(1)), int(m.group(2))
    print(f"isolation holes during a flush of the forward chain: {holes} of {sent} pings answered")
    assert sent > 50
    assert _restored(engine)
    assert ex(engine, a, "ping", "-c1", "-W1", "10.68.0.2")[0] == 1
