import json

import pytest

from minidocker.observe.check import Address, Target, expected, expected_all, format_matrix, resolve, run_check, same_stack, to_json

ALL = {"arp": True, "icmp": True, "tcp": True, "udp": True}
NONE = {"arp": False, "icmp": False, "tcp": False, "udp": False}


def t(name, *eps, joined=None, host=False, netns="auto"):
    return Target(name, f"/run/minidocker/netns/{name}" if netns == "auto" else netns,
                  [Address(*e) for e in eps], joined, host)


A = t("a", ("self_net", "172.20.0.2"))
B = t("b", ("self_net", "172.20.0.3"), ("bridge", "172.17.0.3"))
C = t("c", ("bridge", "172.17.0.2"))


def test_same_network_reachable():
    assert expected_all(A, B, "172.20.0.3", "self_net") == ALL


def test_different_networks_blocked():
    assert expected_all(A, B, "172.17.0.3", "bridge") == NONE
    assert expected_all(A, C, "172.17.0.2", "bridge") == NONE
    assert expected_all(C, A, "172.20.0.2", "self_net") == NONE


def test_shared_network_of_multi_homed_dest():
    assert expected_all(C, B, "172.17.0.3", "bridge") == ALL
    assert expected_all(C, B, "172.20.0.3", "self_net") == NONE


def test_icc_off_keeps_arp_only():
    x = t("x", ("quiet", "10.1.0.2", False, False))
    y = t("y", ("quiet", "10.1.0.3", False, False))
    assert expected_all(x, y, "10.1.0.3", "quiet") == {**NONE, "arp": True}


def test_internal_reachable_inside_only():
    x = t("x", ("inner", "10.2.0.2", True))
    y = t("y", ("inner", "10.2.0.3", True))
    assert expected_all(x, y, "10.2.0.3", "inner") == ALL
    assert expected_all(C, y, "10.2.0.3", "inner") == NONE
    assert expected_all(x, C, "172.17.0.2", "bridge") == NONE


def test_joined_share_the_stack():
    j = t("j", joined="container:b", netns=None)
    k = t("k", joined="b", netns=None)
    assert same_stack(j, B) and same_stack(B, j) and same_stack(j, k)
    assert expected_all(j, B, "172.20.0.3", "self_net") == ALL
    # the joiner reaches what the joined one reaches, once resolved
    j2, = [x for x in resolve([A, B, C, j]) if x.name == "j"]
    assert j2.netns == B.netns and [e.ip for e in j2.endpoints] == ["172.20.0.3", "172.17.0.3"]
    assert expected_all(j2, A, "172.20.0.2", "self_net") == ALL
    assert expected_all(j2, C, "172.17.0.2", "bridge") == ALL


def test_joined_chain_resolves():
    j = t("j", joined="container:a", netns=None)
    k = t("k", joined="container:j", netns=None)
    loop = t("l", joined="container:l", netns=None)
    r = {x.name: x for x in resolve([A, j, k, loop])}
    assert r["k"].netns == A.netns and r["k"].endpoints == A.endpoints
    assert r["l"].netns is None and r["l"].endpoints == []


def test_host_and_none():
    h = t("h", host=True, netns=None)
    n = t("n")
    assert expected_all(h, A, "172.20.0.2", "self_net") == ALL
    assert expected_all(n, A, "172.20.0.2", "self_net") == NONE
    assert same_stack(h, t("h2", host=True, netns=None))


def test_bad_protocol():
    with pytest.raises(ValueError):
        expected(A, B, "172.20.0.3", "self_net", "sctp")


def fake_prober(truth):
    calls = []

    def run(jobs, protos, timeout, workers, port):
        calls.append(jobs)
        return [{p: truth(src, ip, p) for p in protos} for src, ip in jobs]
    run.calls = calls
    return run


def policy_truth(targets):
    """A network that behaves exactly as the policy says."""
    eff = resolve(targets)
    by_ns = {x.netns: x for x in eff if not x.joined_to}
    owner = {e.ip: (x, e.network) for x in targets for e in x.endpoints}

    def truth(src_ns, ip, proto):
        dst, net = owner[ip]
        return expected(by_ns[src_ns], dst, ip, net, proto)
    return truth


def test_run_check_every_pair_no_violation():
    j = t("j", joined="container:b", netns=None)
    targets = [A, B, C, j]
    prober = fake_prober(policy_truth(targets))
    res = run_check(targets, prober=prober)
    assert res.ok and res.violations == []
    assert res.columns == [("a", "self_net", "172.20.0.2"), ("b", "self_net", "172.20.0.3"),
                           ("b", "bridge", "172.17.0.3"), ("c", "bridge", "172.17.0.2")]
    assert res.sources == ["a", "b", "c", "j"]
    # a: 3 others' addresses; b: 2; c: 3; j: all 4 (its own stack included)
    assert len(res.cells) == 3 + 2 + 3 + 4
    assert len(prober.calls) == 1  # one parallel batch
    cell = res.cell("j", ("b", "bridge", "172.17.0.3"))
    assert cell.observed == ALL and cell.expected == ALL


def test_run_check_marks_violation():
    targets = [A, B, C]
    truth = policy_truth(targets)
    leak = lambda ns, ip, p: True if (ns == A.netns and ip == "172.17.0.2") else truth(ns, ip, p)  # noqa: E731
    res = run_check(targets, prober=fake_prober(leak))
    assert not res.ok
    assert [(v.source, v.ip, v.disagreements) for v in res.violations] == [
        ("a", "172.17.0.2", ["arp", "icmp", "tcp", "udp"])]
    text = format_matrix(res)
    assert "AITU!" in text
    assert "1 violation:" in text
    assert "a -> c@bridge 172.17.0.2: arp reachable (expected blocked)" in text


def test_format_matrix_layout():
    x = t("x", ("quiet", "10.1.0.2", False, False))
    y = t("y", ("quiet", "10.1.0.3", False, False))
    res = run_check([x, y], prober=fake_prober(policy_truth([x, y])))
    lines = format_matrix(res).splitlines()
    assert lines[0].split() == ["SOURCE", "x@quiet", "y@quiet"]
    assert lines[1].split() == ["10.1.0.2", "10.1.0.3"]
    assert lines[2].split() == ["x", "-", "A..."]
    assert lines[3].split() == ["y", "A...", "-"]
    assert "A=arp, I=icmp, T=tcp, U=udp" in lines[5]
    assert lines[-1].startswith("no violation (2 pairs probed")


def test_protocol_subset_and_json():
    res = run_check([A, B], protos=("icmp", "tcp"), prober=fake_prober(policy_truth([A, B])))
    assert format_matrix(res).splitlines()[2].split() == ["a", "-", "IT", ".."]
    doc = json.loads(json.dumps(to_json(res)))
    assert doc["OK"] is True and doc["Protocols"] == ["icmp", "tcp"]
    assert doc["Destinations"][0] == {"Name": "a", "Network": "self_net", "IPAddress": "172.20.0.2"}
    assert doc["Cells"][0]["Observed"] == {"icmp": True, "tcp": True}
    assert doc["Violations"] == []


def test_unplaced_source_skipped():
    ghost = t("g", ("self_net", "172.20.0.9"), netns=None)
    res = run_check([A, ghost], prober=fake_prober(lambda *a: True))
    assert res.sources == ["a"]
    assert [c.ip for c in res.cells] == ["172.20.0.9"]
