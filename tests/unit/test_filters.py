"""`--filter` for `network ls` and `ps`, as the Engine checks and applies it (pure)."""
import pytest

from minidocker.engine import filters as flt
from minidocker.engine.models import Container, Network
from minidocker.errors import InvalidArgument

NETS = [Network(id="1" * 64, name="bridge", driver="bridge", created="", builtin=True),
        Network(id="2" * 64, name="none", driver="null", created="", builtin=True),
        Network(id="3a" + "0" * 62, name="alpha", driver="bridge", created="", labels={"team": "red", "tier": ""}),
        Network(id="3b" + "0" * 62, name="beta", driver="bridge", created="", labels={"team": "blue"})]


def names(filters) -> list[str]:
    f = flt.network_filters(filters)
    return [n.name for n in NETS if flt.network_matches(n, f)]


def test_both_json_shapes():
    assert flt.normalize({"name": {"a": True}, "id": ["b"]}) == {"name": ["a"], "id": ["b"]}
    assert flt.normalize(None) == {}


@pytest.mark.parametrize("filters, want", [
    ({}, ["bridge", "none", "alpha", "beta"]),
    ({"name": ["a"]}, ["alpha", "beta"]),
    ({"name": ["alpha", "none"]}, ["none", "alpha"]),
    ({"id": ["3a"]}, ["alpha"]),
    ({"driver": ["null"]}, ["none"]),
    ({"type": ["builtin"]}, ["bridge", "none"]),
    ({"type": ["custom"]}, ["alpha", "beta"]),
    ({"label": ["team"]}, ["alpha", "beta"]),
    ({"label": ["team=red"]}, ["alpha"]),
    ({"label": ["tier"]}, ["alpha"]),
    ({"name": ["a"], "type": ["custom"], "scope": ["local"]}, ["alpha", "beta"]),
])
def test_network_filters(filters, want):
    assert names(filters) == want


def test_network_filter_errors_come_before_matching():
    with pytest.raises(InvalidArgument, match=r"^Invalid filter 'foo'$"):
        flt.network_filters({"name": ["nomatch"], "foo": ["bar"]})
    with pytest.raises(InvalidArgument, match=r"^invalid filter: 'type'='nosuch'$"):
        flt.network_filters({"type": ["nosuch"]})


def test_container_filters():
    nets = {n.id: n for n in NETS}
    c = Container(id="c0ffee" + "0" * 58, name="f-one", created="", image="", image_id="", argv=[],
                  status="running", network_mode="alpha", endpoints={NETS[2].id: {}})
    host = Container(id="d" * 64, name="h", created="", image="", image_id="", argv=[], status="exited",
                     network_mode="host")

    def hits(filters):
        f = flt.container_filters(filters)
        return [x.name for x in (c, host) if flt.container_matches(x, f, nets)]
    assert hits({"name": ["/f-"]}) == ["f-one"]
    assert hits({"id": ["c0ff"]}) == ["f-one"]
    assert hits({"status": ["exited"]}) == ["h"]
    assert hits({"network": ["alpha"]}) == ["f-one"]
    assert hits({"network": ["3a"]}) == ["f-one"]
    assert hits({"network": ["host"]}) == ["h"]
    assert hits({"name": ["f-"], "status": ["exited"]}) == []
    with pytest.raises(InvalidArgument, match=r"^Invalid filter 'bogus'$"):
        flt.container_filters({"bogus": ["1"]})
    # Docker 20.10's words (measured): Invalid filter 'status=bogus'
    with pytest.raises(InvalidArgument, match=r"^Invalid filter 'status=up'$"):
        flt.container_filters({"status": ["up"]})


def test_every_ps_filter_of_docker_20_10():
    nets = {n.id: n for n in NETS}
    web = Container(id="a" * 64, name="web", created="", image="busybox", image_id="sha256:img", argv=[],
                    status="running", labels={"app": "web"}, exposed_ports={"80/tcp": {}, "9000/tcp": {}},
                    active_ports={"80/tcp": [{"HostIp": "", "HostPort": "18099"}]}, binds=["/src:/data:ro"],
                    endpoints={NETS[0].id: {}})
    db = Container(id="b" * 64, name="db", created="", image="other", image_id="sha256:other", argv=[],
                   status="exited", exit_code=3, labels={"app": "db"})
    ok = Container(id="c" * 64, name="ok", created="", image="busybox", image_id="sha256:img", argv=[],
                   status="exited", exit_code=0)

    def hits(filters, image_ids=("sha256:img",)):
        f = flt.container_filters(filters)
        return [x.name for x in (web, db, ok) if flt.container_matches(x, f, nets, set(image_ids))]
    assert hits({"exited": ["3"]}) == ["db"]
    assert hits({"exited": ["0"]}) == ["ok"]
    assert hits({"exited": ["0", "3"]}) == ["db", "ok"]
    assert hits({"label": ["app"]}) == ["web", "db"]
    assert hits({"label": ["app=web"]}) == ["web"]
    assert hits({"publish": ["18099"]}) == ["web"]  # the host's port, as Docker matches it
    assert hits({"publish": ["80"]}) == []
    assert hits({"publish": ["18090-18100/tcp"]}) == ["web"]
    assert hits({"publish": ["18099/udp"]}) == []
    assert hits({"expose": ["80"]}) == ["web"]
    assert hits({"expose": ["8000-9999"]}) == ["web"]
    assert hits({"expose": ["80/sctp"]}) == []
    assert hits({"health": ["none"]}) == ["web", "db", "ok"]
    assert hits({"health": ["healthy"]}) == []
    assert hits({"volume": ["/data"]}) == ["web"] and hits({"volume": ["/src"]}) == ["web"]
    assert hits({"volume": ["/x"]}) == []
    assert hits({"is-task": ["false"]}) == ["web", "db", "ok"]
    assert hits({"is-task": ["true"]}) == []
    assert hits({"ancestor": ["busybox"]}) == ["web", "ok"]
    assert hits({"ancestor": ["nosuch"]}, image_ids=()) == []
    assert hits({"name": ["[wd]"]}) == ["web", "db"]  # a regexp, as moby's filters.Match
    assert hits({"name": ["^/o"]}) == ["ok"]
    from minidocker.errors import MinidockerError
    for filters, msg in [
        ({"exited": ["x"]}, 'strconv.Atoi: parsing "x": invalid syntax'),
        ({"publish": ["1:2"]}, "filter for 'publish' should not contain ':': 1:2"),
        ({"publish": ["abc"]}, 'error while looking up for publish abc: strconv.ParseUint: parsing "abc": invalid syntax'),
        ({"health": ["bogus"]}, "Unrecognised filter value for health: bogus"),
        ({"is-task": ["x"]}, "Invalid filter 'is-task=[x]'"),
    ]:
        with pytest.raises(MinidockerError) as ex:
            flt.container_filters(filters)
        assert ex.value.message == msg
