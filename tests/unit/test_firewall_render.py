"""render() is pure: state in, nft script out. Assertions on its structure."""
import re

import pytest

from minidocker.errors import InvalidArgument
from minidocker.firewall import coexist
from minidocker.firewall.nft import NetworkRules, DnatRule, render, render_table

A = NetworkRules(id="aaaaaaaaaaaa1111", bridge="mdbr-aaaaaaaaaa", subnet="172.18.0.0/16",
                 internal=False, icc=True, masquerade=True)
B = NetworkRules(id="bbbbbbbbbbbb2222", bridge="mdbr-bbbbbbbbbb", subnet="172.19.0.0/16",
                 internal=False, icc=True, masquerade=True)


def chains(script: str) -> dict[str, list[str]]:
    """chain name -> rule lines (without the type/hook head line)."""
    out: dict[str, list[str]] = {}
    cur = None
    for line in script.splitlines():
        s = line.strip()
        m = re.match(r"chain (\S+) \{", s)
        if m:
            cur = m.group(1)
            out[cur] = []
        elif s == "}":
            cur = None
        elif cur and not s.startswith("type "):
            out[cur].append(s)
    return out


def net(**kw):
    d = dict(id="cccccccccccc3333", bridge="mdbr-cccccccccc", subnet="172.20.0.0/16",
             internal=False, icc=True, masquerade=True)
    d.update(kw)
    return NetworkRules(**d)


def test_transaction_replaces_table_atomically():
    s = render([A], [])
    lines = s.splitlines()
    assert lines[0] == "add table inet minidocker"
    assert lines[1] == "delete table inet minidocker"
    assert lines[2] == "table inet minidocker {"
    assert s.count("table inet minidocker {") == 1


def test_base_chains_and_hooks():
    s = render_table([A], [])
    assert "type filter hook forward priority filter; policy accept;" in s
    assert "type nat hook prerouting priority dstnat; policy accept;" in s
    assert "type nat hook output priority -100; policy accept;" in s
    assert "type nat hook postrouting priority srcnat; policy accept;" in s
    assert set(chains(s)) == {"forward", "prerouting", "output", "postrouting"}


def test_empty_state_has_no_rules():
    c = chains(render_table([], []))
    assert all(rules == [] for rules in c.values())


def test_same_network_accept_and_cross_network_drop():
    fwd = chains(render_table([A, B], []))["forward"]
    ia = fwd.index('iifname "mdbr-aaaaaaaaaa" oifname "mdbr-aaaaaaaaaa" accept comment "icc aaaaaaaaaaaa"')
    iso = [i for i, r in enumerate(fwd) if r.startswith('iifname { "mdbr-aaaaaaaaaa", "mdbr-bbbbbbbbbb" } '
                                                         'oifname { "mdbr-aaaaaaaaaa", "mdbr-bbbbbbbbbb" } drop')]
    assert len(iso) == 1 and ia < iso[0]
    # the isolation drop comes before any egress accept of either network
    egress = [i for i, r in enumerate(fwd) if "egress" in r]
    assert len(egress) == 2 and all(iso[0] < i for i in egress)


def test_single_network_has_no_isolation_rule():
    assert "isolation" not in render_table([A], [])


def test_icc_false_drops_within_bridge():
    n = net(icc=False)
    fwd = chains(render_table([n], []))["forward"]
    assert fwd[0].startswith('iifname "mdbr-cccccccccc" oifname "mdbr-cccccccccc" drop')
    assert not any(r.startswith('iifname "mdbr-cccccccccc" oifname "mdbr-cccccccccc" accept') for r in fwd)


def test_internal_network_nothing_in_or_out():
    n = net(internal=True)
    c = chains(render_table([n], []))
    fwd = c["forward"]
    assert fwd[0].startswith('iifname "mdbr-cccccccccc" oifname "mdbr-cccccccccc" accept')
    assert any(r.startswith('iifname "mdbr-cccccccccc" drop') for r in fwd)
    assert any(r.startswith('oifname "mdbr-cccccccccc" drop') for r in fwd)
    assert not any("egress" in r or "established" in r for r in fwd)
    assert c["postrouting"] == []  # no masquerade for internal networks


def test_masquerade_variants():
    post = chains(render_table([net()], []))["postrouting"]
    assert post == ['oifname != "mdbr-cccccccccc" ip saddr 172.20.0.0/16 masquerade']
    fwd = chains(render_table([net(masquerade=False)], []))["forward"]
    assert chains(render_table([net(masquerade=False)], []))["postrouting"] == []
    assert any("egress" in r for r in fwd)  # still forwarded, just not NATed


def test_subnet_is_normalised():
    s = render_table([net(subnet="172.20.16.0/16")], [])
    assert "ip saddr 172.20.0.0/16 masquerade" in s


def test_non_internal_inbound_only_replies():
    fwd = chains(render_table([net()], []))["forward"]
    est = fwd.index('oifname "mdbr-cccccccccc" ct state established,related accept')
    drop = [i for i, r in enumerate(fwd) if r.startswith('oifname "mdbr-cccccccccc" drop')][0]
    assert est < drop


def test_port_mapping_all_addresses():
    p = DnatRule(proto="tcp", host_ip="", host_port=8080, container_ip="172.20.0.2",
                    container_port=80, bridge="mdbr-cccccccccc")
    c = chains(render_table([net()], [p]))
    assert c["prerouting"] == ["fib daddr type local tcp dport 8080 dnat ip to 172.20.0.2:80"]
    # from the host too, 127.0.0.1 included (route_localnet on the bridge, masqueraded)
    assert c["output"] == ["fib daddr type local tcp dport 8080 dnat ip to 172.20.0.2:80"]
    assert 'oifname "mdbr-cccccccccc" ip saddr 127.0.0.0/8 ct status dnat masquerade' \
        ' comment "from the host\'s loopback"' in c["postrouting"]
    assert c["guard"] == ['iifname { "mdbr-cccccccccc" } ip daddr 127.0.0.0/8 drop comment "no loopback from containers"']
    fwd = c["forward"]
    # reached through the host's address it passes before any isolation rule (hairpin)
    assert fwd[0] == 'oifname "mdbr-cccccccccc" ip daddr 172.20.0.2 tcp dport 80 ct status dnat accept'
    assert fwd[1] == "ct status dnat ct direction reply accept"
    acc = fwd.index('oifname "mdbr-cccccccccc" ip daddr 172.20.0.2 tcp dport 80 accept')
    drop = [i for i, r in enumerate(fwd) if r.startswith('oifname "mdbr-cccccccccc" drop')][0]
    assert acc < drop
    assert any("ct status dnat masquerade" in r for r in c["postrouting"])


def test_port_mapping_specific_host_ip_udp():
    p = DnatRule(proto="udp", host_ip="10.9.0.1", host_port=5353, container_ip="172.20.0.3",
                    container_port=53, bridge="mdbr-cccccccccc")
    c = chains(render_table([net()], [p]))
    assert c["prerouting"] == ["ip daddr 10.9.0.1 udp dport 5353 dnat ip to 172.20.0.3:53"]
    assert c["output"] == ["ip daddr 10.9.0.1 udp dport 5353 dnat ip to 172.20.0.3:53"]


def test_port_mapping_loopback_answers_the_host_only():
    p = DnatRule(proto="tcp", host_ip="127.0.0.1", host_port=18081, container_ip="172.20.0.3",
                 container_port=80, bridge="mdbr-cccccccccc")
    c = chains(render_table([net()], [p]))
    assert c["prerouting"] == []
    assert c["output"] == ["ip daddr 127.0.0.1 tcp dport 18081 dnat ip to 172.20.0.3:80"]


def test_ports_on_internal_or_unknown_networks_are_ignored():
    p1 = DnatRule("tcp", "", 8080, "172.20.0.2", 80, "mdbr-cccccccccc")
    p2 = DnatRule("tcp", "", 8081, "172.21.0.2", 80, "mdbr-gone")
    s = render_table([net(internal=True)], [p1, p2])
    assert "dnat" not in s and "8081" not in s and "mdbr-gone" not in s


def test_removing_a_network_leaves_nothing_mentioning_it():
    p = DnatRule("tcp", "", 8080, "172.19.0.2", 80, B.bridge)
    before = render([A, B], [p])
    assert B.bridge in before and "172.19." in before
    after = render([A], [p])  # the port's network is gone as well
    for needle in (B.bridge, B.id[:12], "172.19.", "8080"):
        assert needle not in after
    assert after == render([A], [])


def test_render_is_deterministic_and_order_independent():
    assert render([A, B], []) == render([B, A], [])


@pytest.mark.parametrize("bad", [
    dict(bridge='x" accept; #'), dict(bridge="a" * 16), dict(subnet="300.1.0.0/16"),
    dict(subnet="fd00::/64"), dict(id='x"y'),
])
def test_invalid_networks_refused(bad):
    with pytest.raises(InvalidArgument):
        render([net(**bad)], [])


@pytest.mark.parametrize("bad", [
    dict(proto="icmp"), dict(host_port=0), dict(container_port=70000),
    dict(container_ip="nope"), dict(host_ip="1.2.3"),
])
def test_invalid_ports_refused(bad):
    d = dict(proto="tcp", host_ip="", host_port=8080, container_ip="172.20.0.2",
             container_port=80, bridge="mdbr-cccccccccc")
    d.update(bad)
    with pytest.raises(InvalidArgument):
        render([net()], [DnatRule(**d)])


def test_two_networks_one_bridge_refused():
    with pytest.raises(InvalidArgument):
        render([net(), net(id="dddd", subnet="172.21.0.0/16")], [])


# ---- coexistence with Docker's iptables chains (pure parts)

def test_coexist_chain_choice():
    assert coexist.choose_chain({}) is None
    assert coexist.choose_chain({"FORWARD": {"hook": "forward", "policy": "accept"}}) is None
    assert coexist.choose_chain({"FORWARD": {"hook": "forward", "policy": "drop"}}) == "FORWARD"
    assert coexist.choose_chain({"FORWARD": {"hook": "forward", "policy": "drop"},
                                 "DOCKER-USER": {}}) == "DOCKER-USER"


def test_coexist_rules_docker_user():
    rules = coexist.render_rules(["mdbr-a"], "DOCKER-USER")
    assert rules == [
        'iifname "mdbr-a" oifname "mdbr-a" accept comment "minidocker"',
        'iifname "mdbr-a" oifname "docker0" return comment "minidocker"',
        'iifname "mdbr-a" oifname "br-*" return comment "minidocker"',
        'iifname "mdbr-a" accept comment "minidocker"',
        'oifname "mdbr-a" accept comment "minidocker"',
    ]
    assert all("{" not in r for r in rules)  # plain matches: iptables-nft can list them


def test_coexist_plan_scripts_keep_order():
    plan = coexist.Plan(chain="FORWARD", deletes=[("DOCKER-USER", 7)],
                        rules=coexist.render_rules(["mdbr-a"], "FORWARD"))
    assert plan.delete_script() == "delete rule ip filter DOCKER-USER handle 7\n"
    ins = plan.insert_script().splitlines()
    assert ins == ['insert rule ip filter FORWARD oifname "mdbr-a" accept comment "minidocker"',
                   'insert rule ip filter FORWARD iifname "mdbr-a" accept comment "minidocker"']
    assert coexist.render_rules(["mdbr-a"], None) == []
