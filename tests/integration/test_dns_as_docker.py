"""Issue 10, item 5: the embedded DNS and the /etc files as Docker 20.10 answers
them (each case measured on the oracle with busybox nslookup and a dnslib client).

Upstream servers are the ones test_dns_e2e.py starts (127.0.0.53 in the test's host
namespace); nothing here asks the machine's real resolver.
"""
import pytest
from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver

from .enginehelp import run
from .test_dns_e2e import HOSTS_DEFAULTS, Upstream, addrs, cat, host_upstream, ip_of, q, silent  # noqa: F401


class Rcodes(BaseResolver):
    """An upstream that answers ``refused.*`` REFUSED, ``sf.*`` SERVFAIL, ``up.*`` an
    address, anything else NXDOMAIN; records what it was asked."""

    def __init__(self):
        self.seen = []

    def resolve(self, request, handler):
        name = str(request.q.qname).lower().rstrip(".")
        self.seen.append(name)
        reply = request.reply()
        if name.startswith("refused."):
            reply.header.rcode = RCODE.REFUSED
        elif name.startswith("sf."):
            reply.header.rcode = RCODE.SERVFAIL
        elif name.startswith("up.") and request.q.qtype == QTYPE.A:
            reply.add_answer(RR(request.q.qname, QTYPE.A, ttl=30, rdata=A("10.9.9.9")))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@pytest.fixture
def rcodes_upstream(engine):
    zone = Rcodes()
    up = Upstream(zone, "127.0.0.53")
    yield zone
    up.stop()


def test_name_case_as_docker(engine, host_upstream):
    # Docker 20.10: container names and aliases in any case; the network part exactly
    net = engine.net.create("Self_Net")
    c = run(engine, name="centos1", network="Self_Net", Aliases=["WebAlias"])
    me = ip_of(c, net)
    for name in ("centos1", "CENTOS1", "Centos1.Self_Net", "centos1.Self_Net.", "webalias", "WEBALIAS",
                 "WebAlias.Self_Net"):
        assert addrs(q(c, name)) == [me], name
    for name in ("centos1.self_net", "centos1.SELF_NET", "webalias.self_net"):
        assert q(c, name).header.rcode == RCODE.NXDOMAIN, name  # not ours: the upstream's answer
        assert name.lower() in host_upstream.names()


def test_ptr_as_docker(engine, host_upstream):
    net = engine.net.create("self_net", subnet="172.30.0.0/24", gateway="172.30.0.1")
    a = run(engine, name="pa", network="self_net")
    b = run(engine, name="pb", network="self_net")
    for c in (a, b):
        rev = ".".join(reversed(ip_of(c, net).split("."))) + ".in-addr.arpa"
        r = q(a, rev, "PTR")
        assert r.header.rcode == RCODE.NOERROR
        assert [str(x.rdata) for x in r.rr] == [f"{c.name.lstrip('/')}.self_net."]
    # the gateway and unknown addresses are not ours: asked upstream, its NXDOMAIN comes back
    for rev in ("1.0.30.172.in-addr.arpa", "99.0.30.172.in-addr.arpa"):
        assert q(a, rev, "PTR").header.rcode == RCODE.NXDOMAIN
        assert rev in host_upstream.names()


def test_upstream_rcodes_pass_through(engine, rcodes_upstream):
    engine.net.create("self_net")
    c = run(engine, name="rc1", network="self_net")
    assert addrs(q(c, "up.test")) == ["10.9.9.9"]
    assert q(c, "nx.test").header.rcode == RCODE.NXDOMAIN
    assert q(c, "refused.test").header.rcode == RCODE.REFUSED
    assert q(c, "sf.test").header.rcode == RCODE.SERVFAIL
    # a known name with another type: empty NOERROR (AAAA, MX); others go upstream
    assert q(c, "rc1", "AAAA").header.rcode == RCODE.NOERROR
    assert q(c, "rc1", "TXT").header.rcode == RCODE.NXDOMAIN and "rc1" in rcodes_upstream.seen


def test_etc_files_in_every_network_mode(engine):
    gw = engine.default_bridge().gateway
    extra = ["foo:10.1.2.3", "host.docker.internal:host-gateway"]
    dns = dict(Dns=["10.0.0.53"], DnsSearch=["ex.com"], DnsOptions=["ndots:2"])
    resolv = "search ex.com\nnameserver 10.0.0.53\noptions ndots:2\n"
    hosts_extra = f"10.1.2.3\tfoo\n{gw}\thost.docker.internal\n"
    b = run(engine, name="eb", ExtraHosts=extra, **dns)
    assert cat(engine, b, "/etc/hosts") == HOSTS_DEFAULTS + hosts_extra + \
        f"{b.endpoints[engine.default_bridge().id]['ip']}\t{b.id[:12]}\n"
    assert cat(engine, b, "/etc/resolv.conf") == resolv
    net = engine.net.create("self_net")
    u = run(engine, name="eu", network="self_net", ExtraHosts=extra, **dns)
    assert cat(engine, u, "/etc/hosts") == HOSTS_DEFAULTS + hosts_extra + f"{ip_of(u, net)}\t{u.id[:12]}\n"
    assert cat(engine, u, "/etc/resolv.conf") == "search ex.com\nnameserver 127.0.0.11\noptions ndots:2\n"
    for mode in ("host", "none"):
        c = run(engine, name="e" + mode, network=mode, ExtraHosts=extra, **dns)
        assert cat(engine, c, "/etc/hosts") == HOSTS_DEFAULTS + hosts_extra, mode
        assert cat(engine, c, "/etc/resolv.conf") == resolv, mode
    # host mode without options: the host's own files, untouched
    h = run(engine, name="eh2", network="host")
    with open("/etc/hosts") as f:
        assert cat(engine, h, "/etc/hosts") == f.read()
    with open(engine.host_resolv_conf) as f:
        assert cat(engine, h, "/etc/resolv.conf") == f.read()
    # inspect keeps what was asked
    assert engine.find_container("eu").extra_hosts == extra


def test_ndots_option_keeps_single_labels_home(engine, host_upstream):
    # Docker 20.10 (measured): a container that sets ndots itself gets an empty NOERROR for
    # an unknown single-label A/AAAA name, which is not forwarded; without it, it is
    engine.net.create("self_net")
    a = run(engine, name="nd1", network="self_net", DnsOptions=["ndots:1"])
    b = run(engine, name="nd2", network="self_net", DnsOptions=["timeout:2"])
    r = q(a, "zzunknown")
    assert r.header.rcode == RCODE.NOERROR and r.rr == []
    assert "zzunknown" not in host_upstream.names()
    assert q(a, "zz.unknown").header.rcode == RCODE.NXDOMAIN and "zz.unknown" in host_upstream.names()
    assert q(b, "zzunknown").header.rcode == RCODE.NXDOMAIN and "zzunknown" in host_upstream.names()
    assert addrs(q(a, "nd2")) == [ip_of(b, engine.find_network("self_net"))]
