"""Docker started after us (or `nft flush ruleset`): the daemon notices and re-applies."""
import subprocess

from .enginehelp import ex, run

DOCKER_LIKE = """
table ip filter {
    chain DOCKER-USER {
        return
    }
    chain FORWARD {
        type filter hook forward priority filter; policy drop;
        jump DOCKER-USER
    }
}
"""


def _nft(script: str) -> None:
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def test_reapply_after_docker_starts(engine):
    engine.net.create("drift_net", subnet="10.66.0.0/24")
    a = run(engine, name="da", network="drift_net")
    b = run(engine, name="db", network="drift_net")
    assert not engine.firewall_drifted()
    _nft(DOCKER_LIKE)  # "Docker" starts now: FORWARD policy drop
    try:
        assert engine.firewall_drifted()
        assert ex(engine, a, "ping", "-c1", "-W1", "10.66.0.3")[0] == 1  # Docker's drop bites
        with engine.lock:
            engine.sync_firewall()
        assert not engine.firewall_drifted()
        assert ex(engine, a, "ping", "-c1", "-W2", "10.66.0.3")[0] == 0
        subprocess.run(["nft", "delete", "table", "inet", "minidocker"], check=True)
        assert engine.firewall_drifted()
    finally:
        _nft("delete table ip filter")
    assert b.status == "running"


def test_a_change_before_the_applied_table_is_read_back_is_drift(engine):
    """The table just applied is fingerprinted later (off the verb's path); a rule
    added to it before that read-back is still drift, and a re-apply removes it."""
    from minidocker.firewall import drift, nft
    with engine.lock:
        engine.net.create("drift_rb", subnet="10.67.0.0/24")
        assert engine.fw_applied[0] is None  # not read back yet
        chain = next(c["chain"]["name"] for c in drift.libnft.list_json(f"table {nft.TABLE}") if "chain" in c)
        subprocess.run(["nft", "add", "rule", *nft.TABLE.split(), chain, "counter"], check=True)
    assert engine.firewall_drifted()
    assert engine.repair_firewall()
    assert not engine.firewall_drifted()
    assert engine.fw_applied[0] == drift.fingerprint(nft.TABLE)  # read back once nothing came between


def test_the_generation_is_read_in_the_callers_namespace_and_follows_commits(tmp_path):
    """drift.generation() keeps a socket per network namespace (closing one right
    after a commit would wait out an RCU grace period): each namespace answers
    for itself, and every commit there advances it."""
    from minidocker.firewall import drift
    from minidocker.network import namespaces
    pins = str(tmp_path / "pins")
    namespaces.ensure_private_dir(pins)
    path = f"{pins}/gen"
    try:
        namespaces.create_netns(path)
        here = drift.generation()
        there = namespaces.run_in_netns(path, drift.generation)
        assert here is not None and there is not None
        namespaces.run_in_netns(path, subprocess.run, ["nft", "add", "table", "inet", "gen_t"], check=True)
        assert namespaces.run_in_netns(path, drift.generation) == there + 1
        assert drift.generation() == here
        assert drift.generation() == here  # the same socket, asked again
    finally:
        namespaces.delete_netns(path)
        namespaces.umount(pins, namespaces.MNT_DETACH)
