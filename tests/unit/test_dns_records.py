import struct

import pytest
from dnslib import A, DNSRecord, EDNS0, QTYPE

from minidocker.dns import answer, packet as wire
from minidocker.dns.records import Table
from minidocker.dns.resolvconf import filter_host_resolv_conf, host_resolvers_from


@pytest.fixture
def table():
    t = Table()
    t.set_endpoint("n1", "net1", "c1" * 32, "web", "10.1.0.2", ["c1c1c1c1c1c1", "webhost", "www"])
    t.set_endpoint("n1", "net1", "c2" * 32, "/db", "10.1.0.3", ["www"])
    t.set_endpoint("n2", "net2", "c3" * 32, "other", "10.2.0.2", [])
    t.set_endpoint("n2", "net2", "c1" * 32, "web", "10.2.0.5", [])
    return t


def test_scope_only_own_networks(table):
    assert table.lookup(["n1"], "web") == ["10.1.0.2"]
    assert table.lookup(["n1"], "other") is None
    assert table.lookup(["n2"], "other") == ["10.2.0.2"]
    assert table.lookup([], "web") is None
    assert table.lookup(["nope"], "web") is None


def test_first_network_wins_like_docker(table):
    assert table.lookup(["n1", "n2"], "web") == ["10.1.0.2"]
    assert table.lookup(["n2", "n1"], "web") == ["10.2.0.5"]


def test_name_dot_network(table):
    assert table.lookup(["n1", "n2"], "web.net2") == ["10.2.0.5"]
    assert table.lookup(["n1", "n2"], "web.net1.") == ["10.1.0.2"]
    assert table.lookup(["n1"], "web.net2") is None
    assert table.lookup(["n1"], "www.net1") and sorted(table.lookup(["n1"], "www.net1")) == ["10.1.0.2", "10.1.0.3"]


def test_case_insensitive_and_trailing_dot(table):
    assert table.lookup(["n1"], "WeB.") == ["10.1.0.2"]
    assert table.lookup(["n1"], "WEBHOST") == ["10.1.0.2"]
    assert table.lookup(["n1"], "DB.net1") == ["10.1.0.3"]


def test_network_part_compares_exactly_like_docker(table):
    # measured on Docker 20.10: CENTOS1 and Centos1.self_net resolve, centos1.SELF_NET does not
    table.set_endpoint("n3", "Self_Net", "c4" * 32, "centos1", "10.3.0.2", [])
    assert table.lookup(["n3"], "CENTOS1") == ["10.3.0.2"]
    assert table.lookup(["n3"], "Centos1.Self_Net.") == ["10.3.0.2"]
    for wrong in ("centos1.self_net", "centos1.SELF_NET", "DB.NET1"):
        assert table.lookup(["n1", "n3"], wrong) is None


def test_aliases_short_id_and_shared_alias(table):
    assert table.lookup(["n1"], "c1c1c1c1c1c1") == ["10.1.0.2"]
    assert sorted(table.lookup(["n1"], "www")) == ["10.1.0.2", "10.1.0.3"]


def test_remove_endpoint_and_network(table):
    table.remove_endpoint("n1", "c2" * 32)
    assert table.lookup(["n1"], "db") is None
    assert table.lookup(["n1"], "www") == ["10.1.0.2"]
    table.remove_endpoint("n1", "missing")
    table.remove_network("n2")
    assert table.lookup(["n2"], "other") is None
    assert table.reverse(["n2"], "10.2.0.2") is None


def test_set_endpoint_replaces(table):
    table.set_endpoint("n1", "net1", "c1" * 32, "web", "10.1.0.9", [])
    assert table.lookup(["n1"], "web") == ["10.1.0.9"]
    assert table.lookup(["n1"], "webhost") is None


def test_reverse(table):
    assert table.reverse(["n1"], "10.1.0.3") == "db.net1"
    assert table.reverse(["n1", "n2"], "10.2.0.5") == "web.net2"
    assert table.reverse(["n1"], "10.2.0.5") is None
    assert table.reverse(["n1"], "not-an-ip") is None


def test_invalid_ip_rejected():
    with pytest.raises(ValueError):
        Table().set_endpoint("n", "net", "c", "x", "300.1.1.1", [])


def test_host_resolvers_from():
    text = "# c\nnameserver 127.0.0.53\nnameserver 10.0.0.1 # x\nsearch lan\nnameserver fe80::1%eth0\nnameserver bogus\n"
    assert host_resolvers_from(text) == ["127.0.0.53", "10.0.0.1", "fe80::1"]


def test_filtered_host_file_falls_back_to_docker_defaults():
    out = filter_host_resolv_conf("search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\n")
    assert out == "search lan\nnameserver 10.0.0.1\n"
    out = filter_host_resolv_conf("nameserver 127.0.0.53\noptions edns0\n")
    assert host_resolvers_from(out) == ["8.8.8.8", "8.8.4.4"]
    assert "options edns0" in out


# -- wire parser and answers (pure) -------------------------------------------------

def q(name, qtype="A", **kw):
    return DNSRecord.question(name, qtype, **kw).pack()


def decide(table, data, networks=("n1",), internal=False, tcp=False):
    res = answer.parse_or_reject(data)
    if not isinstance(res, wire.Message):
        return res
    return answer.decide(table, list(networks), internal, res, tcp)


def test_a_answer_ttl_and_case_preserved(table):
    r = DNSRecord.parse(decide(table, q("WEB")))
    assert r.header.rcode == 0 and r.header.qr == 1 and r.header.ra == 1
    assert [(str(a.rdata), a.ttl) for a in r.rr] == [("10.1.0.2", 600)]
    assert str(r.rr[0].rname) == "WEB."


def test_aaaa_known_name_is_empty_noerror(table):
    r = DNSRecord.parse(decide(table, q("web", "AAAA")))
    assert r.header.rcode == 0 and r.rr == []


def test_ptr(table):
    r = DNSRecord.parse(decide(table, q("3.0.1.10.in-addr.arpa", "PTR")))
    assert str(r.rr[0].rdata) == "db.net1." and r.rr[0].ttl == 600
    assert decide(table, q("5.0.2.10.in-addr.arpa", "PTR")) == answer.FORWARD


def test_unknown_names_forward_even_when_internal(table):
    # Docker 20.10 forwards from the container's namespace whatever its networks
    assert decide(table, q("example.com")) == answer.FORWARD
    assert decide(table, q("example.com"), internal=True) == answer.FORWARD


def test_truncation_udp_and_edns():
    t = Table()
    for i in range(60):
        t.set_endpoint("n1", "net1", f"c{i}", f"c{i}", f"10.1.0.{i + 2}", ["many"])
    r = DNSRecord.parse(decide(t, q("many")))
    assert r.header.tc == 1 and 0 < len(r.rr) < 60
    big = DNSRecord.question("many")
    big.add_ar(EDNS0(udp_len=4096))
    r = DNSRecord.parse(decide(t, big.pack()))
    assert r.header.tc == 0 and len(r.rr) == 60
    r = DNSRecord.parse(decide(t, q("many"), tcp=True))
    assert r.header.tc == 0 and len(r.rr) == 60


def _header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def test_malformed_inputs(table):
    assert decide(table, b"") is None
    assert decide(table, b"\x01\x02\x03") is None
    # a response is never answered
    assert decide(table, _header(flags=0x8000) + b"\0\0\1\0\1") is None
    cases = [
        _header() + b"\x40" + b"a" * 64 + b"\0\0\1\0\1",           # label > 63
        _header() + b"\xc0\x0c\0\1\0\1",                          # pointer to itself
        _header() + b"\x01a\xc0\x0e\0\1\0\1",                      # forward pointer
        _header() + b"\x03ab",                                     # truncated
        _header(qd=2) + b"\0\0\1\0\1",                            # two questions
        _header() + (b"\x3f" + b"a" * 63) * 5 + b"\0\0\1\0\1",     # name > 255
    ]
    for data in cases:
        r = decide(table, data)
        assert isinstance(r, bytes), data
        qid, flags = struct.unpack("!HH", r[:4])
        assert qid == 0x1234 and flags & 0x8000 and flags & 0xF == wire.FORMERR
    r = decide(table, _header(flags=0x2100) + b"\0\0\1\0\1")  # opcode STATUS
    assert r[3] & 0xF == wire.NOTIMP


def test_compression_loop_between_pointers():
    data = _header() + b"\xc0\x11\0\1\0\1" + b"\xc0\x0c"
    with pytest.raises(wire.Malformed):
        wire.parse(data)


def test_ndots_set_answers_single_labels_empty(table):
    # Docker 20.10 (measured): with --dns-option ndots:N, an unknown "zz" A/AAAA gets an
    # empty NOERROR at once; MX and dotted names still go upstream
    for qtype in ("A", "AAAA"):
        r = DNSRecord.parse(answer.decide(table, ["n1"], False, wire.parse(q("zz", qtype)), False, ndots_set=True))
        assert r.header.rcode == 0 and r.rr == [] and r.header.aa == 0
    assert answer.decide(table, ["n1"], False, wire.parse(q("zz", "MX")), False, ndots_set=True) == answer.FORWARD
    assert answer.decide(table, ["n1"], False, wire.parse(q("a.b")), False, ndots_set=True) == answer.FORWARD
    assert answer.decide(table, ["n1"], False, wire.parse(q("zz")), False) == answer.FORWARD
    r = DNSRecord.parse(answer.decide(table, ["n1"], False, wire.parse(q("web")), False, ndots_set=True))
    assert [str(x.rdata) for x in r.rr] == ["10.1.0.2"]


# -- what the server's answer cache may keep -----------------------------------------

def test_table_version_moves_on_every_change():
    t = Table()
    seen = [t.version]
    t.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.2", [])
    seen.append(t.version)
    t.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.3", [])
    seen.append(t.version)
    t.remove_endpoint("n1", "aa" * 32)
    seen.append(t.version)
    t.set_endpoint("n2", "net2", "bb" * 32, "db", "10.2.0.2", [])
    t.remove_network("n2")
    seen.append(t.version)
    assert seen == sorted(set(seen))  # strictly increasing
    before = t.version
    t.remove_endpoint("n9", "cc" * 32)  # nothing changed
    assert t.version == before


def respond(table, data, networks=("n1",)):
    return answer.respond(table, list(networks), False, answer.parse_or_reject(data), False)


def test_only_answers_that_never_vary_are_cacheable():
    t = Table()
    t.set_endpoint("n1", "net1", "aa" * 32, "web", "10.1.0.2", ["both"])
    t.set_endpoint("n1", "net1", "bb" * 32, "db", "10.1.0.3", ["both"])
    out, stable = respond(t, q("web"))
    assert stable and DNSRecord.parse(out).rr[0].rdata == A("10.1.0.2")
    assert respond(t, q("both"))[1] is False  # two addresses: shuffled per answer
    assert respond(t, q("web", "AAAA"))[1] is True  # empty NOERROR
    assert respond(t, q("2.0.1.10.in-addr.arpa", "PTR"))[1] is True
    assert respond(t, q("nx.example")) == (answer.FORWARD, False)


def test_kept_indexes_equal_a_full_reindex_after_any_changes():
    """The name table keeps its indexes entry by entry (no rebuild per change):
    after random registrations, replacements (new address, renamed, aliases
    shared, taken up and dropped) and removals they equal a rebuild from scratch,
    orders included (a name's addresses in registration order, an address's
    first container)."""
    import random
    rng = random.Random(12)
    t = Table()
    ids = [f"{i:02d}" * 32 for i in range(12)]
    for step in range(3000):
        cid = rng.choice(ids)
        if rng.random() < 0.25:
            t.remove_endpoint("n1", cid)
        else:
            names = rng.sample(["web", "db", "www", "api", "x"], rng.randint(0, 3))
            t.set_endpoint("n1", "net1", cid, rng.choice(["a", "b", "c", "d"]) + cid[:2],
                           f"10.1.0.{rng.randint(2, 9)}", names)
        net = t._nets.get("n1")
        if net is None:
            continue
        kept = (dict(net.index), dict(net.by_ip))
        net.reindex()
        assert kept == (net.index, net.by_ip), f"step {step}"  # (lists compare in order)
