"""Pure rendering of a container's /etc files (Docker 20.10 layouts)."""
import os

from minidocker.dns import resolvconf
from minidocker.engine import etcfiles as ef

DEFAULTS = ("127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\n"
            "ff00::0\tip6-mcastprefix\n"
            "ff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n")


def test_hosts_like_docker_transcript():
    assert ef.container_hosts("ec722e07d8a2", ["172.20.0.1"]) == DEFAULTS + "172.20.0.1\tec722e07d8a2\n"


def test_hosts_none_network_has_only_defaults():
    assert ef.container_hosts("abc", []) == DEFAULTS


def test_hosts_add_host_then_fqdn_records_per_network():
    text = ef.container_hosts("h.example.com", ["172.17.0.2", "192.168.48.2"],
                                  extra_hosts=[("foo", "1.2.3.4"), ("bar.baz", "5.6.7.8")])
    assert text == DEFAULTS + ("1.2.3.4\tfoo\n5.6.7.8\tbar.baz\n"
                               "172.17.0.2\th.example.com h\n192.168.48.2\th.example.com h\n")


def test_host_names_with_domainname():
    assert ef.host_names("web", "example.org") == "web.example.org web"
    assert ef.host_names("web") == "web"


def test_render_resolv_conf_order_and_dot_search():
    assert resolvconf.render_resolv_conf(["1.1.1.1", "9.9.9.9"], ["a.b"], ["rotate"]) == (
        "search a.b\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions rotate\n")
    assert resolvconf.render_resolv_conf(["1.1.1.1"], ["."]) == "nameserver 1.1.1.1\n"


def test_filter_host_resolv_conf():
    assert resolvconf.filter_host_resolv_conf("nameserver 10.0.0.2\nnameserver 127.0.0.53\n") == "nameserver 10.0.0.2\n"
    out = resolvconf.filter_host_resolv_conf("nameserver 127.0.0.53\nsearch lan\n")
    assert out == "search lan\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4"


def test_parse_resolv_conf():
    p = resolvconf.parse_resolv_conf("domain x\nsearch a b # c\nnameserver 1.2.3.4\n; x\noptions ndots:1 edns0\n")
    assert p == {"nameservers": ["1.2.3.4"], "search": ["a", "b"], "options": ["ndots:1", "edns0"]}


def test_write_etc_files_rewrites_in_place(tmp_path):
    b = str(tmp_path)
    paths = ef.write_etc_files(b, "abc", [("172.17.0.2", None)], "nameserver 127.0.0.11\n")
    assert sorted(paths) == ["hostname", "hosts", "resolv.conf"]
    assert open(paths["hostname"]).read() == "abc\n"
    assert open(paths["hosts"]).read() == DEFAULTS + "172.17.0.2\tabc\n"
    ino = os.stat(paths["hosts"]).st_ino
    ef.write_etc_files(b, "abc", [("1.2.3.4", "foo"), ("172.17.0.2", None)], "nameserver 127.0.0.11\n")
    assert os.stat(paths["hosts"]).st_ino == ino  # same inode: a bind mount of it sees the change
    assert open(paths["hosts"]).read() == DEFAULTS + "1.2.3.4\tfoo\n172.17.0.2\tabc\n"
    ef.write_in_place(paths["hosts"], "short\n")
    assert open(paths["hosts"]).read() == "short\n"
