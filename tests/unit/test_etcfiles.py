"""Pure rendering of /etc/hosts and /etc/resolv.conf, against what Docker 20.10 wrote."""
from minidocker.dns import resolvconf
from minidocker.engine import etcfiles as ef

H = ef.HOSTS_HEADER


def test_hosts_add_host_before_own_lines():
    # docker run --hostname myhost --add-host foo:1.2.3.4 --add-host bar:5.6.7.8 on a user network
    assert ef.container_hosts("myhost", ["192.168.144.2"], ["foo:1.2.3.4", "bar:5.6.7.8"]) == (
        H + "1.2.3.4\tfoo\n5.6.7.8\tbar\n192.168.144.2\tmyhost\n")
    assert ef.container_hosts("h", [], ["v6:2001:db8::1"]) == H + "2001:db8::1\tv6\n"
    assert ef.container_hosts("314b90e3cfa1", ["192.168.144.3"], domainname="dom.org") == (
        H + "192.168.144.3\t314b90e3cfa1.dom.org 314b90e3cfa1\n")


def test_hosts_connect_appends_disconnect_deletes_by_name():
    start = ef.container_hosts("d94b0c807e4a", ["172.17.0.2"], ["foo:1.2.3.4"])
    connected = ef.sync_hosts(start, "d94b0c807e4a", ["172.17.0.2", "192.168.144.3"], ["foo:1.2.3.4"])
    assert connected == start + "192.168.144.3\td94b0c807e4a\n"
    assert ef.sync_hosts(connected, "d94b0c807e4a", ["172.17.0.2", "192.168.144.3"], ["foo:1.2.3.4"]) == connected
    # docker network disconnect: every line ending in the hostname goes (libnetwork deletes by name)
    assert ef.sync_hosts(connected, "d94b0c807e4a", ["172.17.0.2"], ["foo:1.2.3.4"]) == H + "1.2.3.4\tfoo\n"


def test_add_host_with_own_hostname_is_not_an_endpoint_line():
    text = ef.container_hosts("web", ["10.0.0.2"], ["web:1.2.3.4"])
    assert ef.sync_hosts(text, "web", ["10.0.0.2"], ["web:1.2.3.4"]) == text


def test_default_bridge_filters_loopback_and_ipv6():
    assert ef.default_resolv_conf("nameserver 10.255.255.53\n") == "nameserver 10.255.255.53\n"
    assert ef.default_resolv_conf("nameserver 127.0.0.53\n") == "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
    text = "# c\nnameserver 127.0.0.53\n\nnameserver 2001:db8::1\nnameserver 10.0.0.2\nsearch lan\n"
    assert ef.default_resolv_conf(text) == "# c\nnameserver 10.0.0.2\nsearch lan\n"


def test_default_bridge_with_flags_is_rebuilt():
    host = "nameserver 10.255.255.53\nsearch lan\noptions edns0\n"
    # docker run --dns-option timeout:3 --dns-search x.org busybox
    assert ef.default_resolv_conf(host, search=["x.org"], options=["timeout:3"]) == (
        "search x.org\nnameserver 10.255.255.53\noptions timeout:3\n")
    assert ef.default_resolv_conf(host, dns=["127.0.0.1", "127.0.0.2"]) == (
        "search lan\nnameserver 127.0.0.1\nnameserver 127.0.0.2\noptions edns0\n")
    assert ef.default_resolv_conf("nameserver 127.0.0.53\n", search=["a"]) == (
        "search a\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n")
    assert ef.default_resolv_conf(host, search=["."]) == "nameserver 10.255.255.53\noptions edns0\n"


def test_embedded_dns_resolv_conf():
    host = "nameserver 10.255.255.53\n"
    assert ef.embedded_resolv_conf(host) == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert ef.embedded_resolv_conf("nameserver 127.0.0.53\n") == "nameserver 127.0.0.11\noptions ndots:0\n"
    # docker run --network u --dns-search example.com --dns-search b.org --dns-option timeout:2 --dns-option ndots:3
    assert ef.embedded_resolv_conf(host, search=["example.com", "b.org"], options=["timeout:2", "ndots:3"]) == (
        "search example.com b.org\nnameserver 127.0.0.11\noptions timeout:2 ndots:3\n")
    assert ef.embedded_resolv_conf(host, dns=["10.1.1.1"], options=["timeout:2"]) == (
        "nameserver 127.0.0.11\noptions timeout:2 ndots:0\n")
    # the host's search and options carry over; IPv6 servers are listed (not forwarded to)
    assert ef.embedded_resolv_conf("nameserver 2001:db8::1\nsearch lan\noptions edns0\n") == (
        "search lan\nnameserver 127.0.0.11\nnameserver 2001:db8::1\noptions edns0 ndots:0\n")
    assert ef.uses_embedded_dns(ef.embedded_resolv_conf(host))
    assert not ef.uses_embedded_dns(ef.default_resolv_conf(host))


def test_parse_last_search_and_options_win():
    p = resolvconf.parse_resolv_conf("search a\nsearch b c # x\nnameserver 1.2.3.4\noptions x\noptions ndots:1 edns0\n")
    assert p == {"nameservers": ["1.2.3.4"], "search": ["b", "c"], "options": ["ndots:1", "edns0"]}


def test_write_in_place_keeps_inode(tmp_path):
    p = str(tmp_path / "hosts")
    ef.write_in_place(p, "long text\n" * 10)
    import os
    ino = os.stat(p).st_ino
    ef.write_in_place(p, "short\n")
    assert os.stat(p).st_ino == ino and open(p).read() == "short\n"
