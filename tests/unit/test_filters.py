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
    with pytest.raises(InvalidArgument, match=r"^Unrecognised filter value for status: up$"):
        flt.container_filters({"status": ["up"]})
