"""`minidocker network ...` through the real CLI and a real daemon, against the
outputs real Docker 20.10 printed (shared/reference/docker-20.10-transcript.md)."""
import json
import re

import pytest

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def lines(text):
    return text.splitlines()


def test_walkthrough_section_4_and_5_1(cli):
    assert cli.ok("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}") == \
        "bridge bridge local\nhost host local\nnone null local\n"
    out = cli.ok("network", "create", "--driver", "bridge", "--subnet", "172.20.16.0/16",
                 "--gateway", "172.20.16.1", "self_net")
    assert HEX64.match(out.strip())
    net_id = out.strip()
    r = cli("network", "create", "--driver", "bridge", "--subnet", "172.20.16.0/16", "--gateway",
            "172.20.16.1", "self_net")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "Error response from daemon: network with name self_net already exists\n")
    assert cli.ok("network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Scope}} {{.EnableIPv6}} "
                  "{{.Internal}} {{json .IPAM}}", "self_net") == \
        'self_net bridge local false false {"Driver":"default","Options":{},"Config":' \
        '[{"Subnet":"172.20.16.0/16","Gateway":"172.20.16.1"}]}\n'
    cli.ok("network", "create", "auto1")
    cli.ok("network", "create", "auto2")
    assert cli.ok("network", "inspect", "-f", "{{json .IPAM.Config}}", "auto1", "auto2") == \
        '[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]\n[{"Subnet":"172.19.0.0/16","Gateway":"172.19.0.1"}]\n'
    assert HEX64.match(cli.ok("run", "-d", "--name", "centos1", "--network=self_net", "busybox",
                              "sleep", "600").strip())
    cli.ok("run", "-d", "--name", "centos2", "--network=self_net", "--ip=172.20.16.4", "busybox", "sleep", "600")
    for args, msg in [
        (("--network=self_net", "--ip=172.19.10.10"),
         "Invalid address 172.19.10.10: It does not belong to any of this network's subnets"),
        (("--network=auto1", "--ip=172.18.0.50"),
         "user specified IP address is supported only when connecting to networks with user configured subnets"),
        (("--network=self_net", "--ip=172.20.16.4"), "Address already in use"),
        (("--network=nosuch",), "network nosuch not found"),
    ]:
        r = cli("run", "--rm", *args, "busybox", "true")
        assert r.returncode == 125
        # an error of the start (the container exists): no usage hint, as the docker 20.10 CLI
        assert r.stderr == f"minidocker: Error response from daemon: {msg}.\n", r.stderr
    out = cli.ok("exec", "centos1", "ip", "-o", "-4", "addr", "show", "eth0")
    assert out.split()[1:6] == ["eth0", "inet", "172.20.0.1/16", "brd", "172.20.255.255"]
    out = cli.ok("exec", "centos1", "ip", "route")
    assert lines(out) == ["default via 172.20.16.1 dev eth0 ",
                          "172.20.0.0/16 dev eth0 scope link  src 172.20.0.1 "]
    assert "link/ether 02:42:ac:14:00:01" in cli.ok("exec", "centos1", "ip", "link", "show", "eth0")
    assert "1 packets received" in cli.ok("exec", "centos2", "ping", "-c1", "-W2", "centos1")
    # 五.1: the default bridge cannot reach self_net until connected
    cli.ok("run", "-d", "--name", "centos3", "busybox", "sleep", "600")
    assert cli("exec", "centos3", "ping", "-c1", "-W1", "172.20.16.4").returncode == 1
    assert cli("network", "connect", "self_net", "centos3").returncode == 0
    r = cli("network", "connect", "self_net", "centos3")
    assert (r.returncode, r.stderr) == (
        1, "Error response from daemon: endpoint with name centos3 already exists in network self_net\n")
    out = cli.ok("exec", "centos3", "ip", "-o", "-4", "addr")
    assert [l.split()[1:4] for l in lines(out)] == [["lo", "inet", "127.0.0.1/8"], ["eth0", "inet", "172.17.0.2/16"],
                                                    ["eth1", "inet", "172.20.0.2/16"]]
    assert cli("exec", "centos3", "ping", "-c1", "-W2", "172.20.16.4").returncode == 0
    assert cli.ok("exec", "centos3", "cat", "/etc/resolv.conf") == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert cli("network", "disconnect", "self_net", "centos3").returncode == 0
    assert cli("exec", "centos3", "ping", "-c1", "-W1", "172.20.16.4").returncode == 1
    r = cli("network", "rm", "self_net")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", f"Error response from daemon: error while removing network: network self_net id {net_id} "
               "has active endpoints\n")
    cli.ok("rm", "-f", "centos1", "centos2", "centos3")
    assert cli.ok("network", "rm", "self_net", "auto1", "auto2") == "self_net\nauto1\nauto2\n"
    r = cli("network", "rm", "self_net")
    assert (r.returncode, r.stderr) == (1, "Error: No such network: self_net\n")
    assert cli.ok("network", "ls", "--format", "{{.Name}}") == "bridge\nhost\nnone\n"


@pytest.mark.parametrize("args,err", [
    (("--subnet", "172.20.0.0/24", "overlap"), "Error response from daemon: Pool overlaps with other one on this address space"),
    (("--subnet", "10.300.0.0/16", "badcidr"),
     "Error response from daemon: Invalid subnet 10.300.0.0/16 : invalid CIDR address: 10.300.0.0/16"),
    (("--subnet", "10.88.0.0/16", "--gateway", "10.99.0.1", "badgw"), "no matching subnet for gateway 10.99.0.1"),
    (("--subnet", "10.50.0.0/16", "--ip-range", "10.51.0.0/24", "rng"), "no matching subnet for range 10.51.0.0/24"),
    (("--ip-range", "10.77.0.0/24", "rangeonly"), "every ip-range or gateway must have a corresponding subnet"),
    (("--gateway", "10.77.0.1", "gwonly"), "every ip-range or gateway must have a corresponding subnet"),
    (("-d", "nosuch", "x"), 'Error response from daemon: plugin "nosuch" not found'),
    (("host",), "Error response from daemon: operation is not permitted on predefined host network"),
    (("-o", "com.docker.network.bridge.enable_icc=maybe", "x"),
     'Error response from daemon: failed to parse com.docker.network.bridge.enable_icc value: maybe '
     '(strconv.ParseBool: parsing "maybe": invalid syntax)'),
    (("self_net",), "Error response from daemon: network with name self_net already exists"),
])
def test_create_errors(cli, args, err):
    cli.ok("network", "create", "--subnet", "172.20.16.0/16", "self_net")
    before = cli.ok("network", "ls", "--no-trunc")
    r = cli("network", "create", *args)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", err + "\n")
    assert cli.ok("network", "ls", "--no-trunc") == before


def test_ls_formats_and_filters(cli):
    a = cli.ok("network", "create", "--label", "team=red", "--label", "tier", "alpha").strip()
    b = cli.ok("network", "create", "--internal", "--label", "team=blue", "beta").strip()
    rows = lines(cli.ok("network", "ls"))
    assert re.split(r"\s{2,}", rows[0]) == ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]
    names = [re.split(r"\s{2,}", r)[1] for r in rows[1:]]
    assert names == ["alpha", "beta", "bridge", "host", "none"]
    assert re.split(r"\s{2,}", rows[1]) == [a[:12], "alpha", "bridge", "local"]
    q = lines(cli.ok("network", "ls", "-q"))
    assert len(q) == 5 and a[:12] in q and all(len(x) == 12 for x in q)
    assert a in lines(cli.ok("network", "ls", "-q", "--no-trunc"))
    assert a in cli.ok("network", "ls", "--no-trunc")
    assert cli.ok("network", "ls", "--filter", "name=alp", "--format", "{{.ID}} {{.Name}} {{.Driver}} "
                  "{{.Scope}} {{.Internal}} {{.Labels}}") == f"{a[:12]} alpha bridge local false team=red,tier=\n"
    assert cli.ok("network", "ls", "-f", "name=beta", "--format", "{{.Internal}} {{.Labels}}") == "true team=blue\n"
    t = lines(cli.ok("network", "ls", "--format", "table {{.Name}}\t{{.Internal}}", "-f", "type=custom"))
    assert [re.split(r"\s{2,}", x) for x in t] == [["NAME", "INTERNAL"], ["alpha", "false"], ["beta", "true"]]
    js = [json.loads(x) for x in lines(cli.ok("network", "ls", "--format", "json", "-f", "id=" + b[:6]))]
    assert [j["Name"] for j in js] == ["beta"] and js[0]["ID"] == b[:12] and js[0]["Internal"] == "true"
    assert set(js[0]) >= {"ID", "Name", "Driver", "Scope", "IPv6", "Internal", "Labels", "CreatedAt"}
    f = lambda *fl: sorted(lines(cli.ok("network", "ls", "--format", "{{.Name}}", *fl)))  # noqa: E731
    assert f("-f", "type=builtin") == ["bridge", "host", "none"]
    assert f("-f", "type=custom") == ["alpha", "beta"]
    assert f("-f", "driver=null") == ["none"]
    assert f("-f", "driver=bridge") == ["alpha", "beta", "bridge"]
    assert f("-f", "label=team") == ["alpha", "beta"]
    assert f("-f", "label=team=red") == ["alpha"]
    assert f("-f", "label=tier") == ["alpha"]
    assert f("-f", "name=a", "-f", "type=custom") == ["alpha", "beta"]
    assert f("-f", "name=alpha", "-f", "name=none") == ["alpha", "none"]
    assert f("-f", f"id={a}") == ["alpha"]
    r = cli("network", "ls", "-f", "type=nosuch")
    assert (r.returncode, r.stderr) == (1, "Error response from daemon: invalid filter: 'type'='nosuch'\n")


def test_ls_unknown_filter_message(cli):
    r = cli("network", "ls", "-f", "foo=bar")
    assert (r.returncode, r.stderr) == (1, "Error response from daemon: Invalid filter 'foo'\n")


def test_inspect_templates_and_containers(cli):
    cli.ok("network", "create", "--subnet", "10.80.0.0/24", "--ip-range", "10.80.0.128/25",
           "--aux-address", "x=10.80.0.130", "ins")
    c = cli.ok("run", "-d", "--name", "web1", "--network", "ins", "busybox", "sleep", "600").strip()
    assert cli.ok("network", "inspect", "-f", "{{json .IPAM.Config}}", "ins") == \
        '[{"Subnet":"10.80.0.0/24","IPRange":"10.80.0.128/25","AuxiliaryAddresses":{"x":"10.80.0.130"}}]\n'
    out = cli.ok("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}",
                 "ins")
    assert out == "web1 10.80.0.129/24 02:42:0a:50:00:81\n"
    full = json.loads(cli.ok("network", "inspect", "ins"))
    assert len(full) == 1
    member = full[0]["Containers"][c]
    assert set(member) == {"Name", "EndpointID", "MacAddress", "IPv4Address", "IPv6Address"}
    assert HEX64.match(member["EndpointID"])
    r = cli("network", "inspect", "ins", "nosuch")
    assert r.returncode == 1 and "Error: No such network: nosuch" in r.stderr
    assert json.loads(r.stdout)[0]["Name"] == "ins"


def test_rm_keeps_going_and_refuses_builtins(cli):
    cli.ok("network", "create", "one")
    cli.ok("network", "create", "two")
    r = cli("network", "rm", "one", "bridge", "nosuch", "two")
    assert r.returncode == 1
    assert r.stdout == "one\ntwo\n"
    assert r.stderr == ("Error response from daemon: bridge is a pre-defined network and cannot be removed\n"
                        "Error: No such network: nosuch\n")
    assert cli.ok("network", "ls", "--format", "{{.Name}}") == "bridge\nhost\nnone\n"


def test_prune(cli):
    cli.ok("network", "create", "keep")
    cli.ok("network", "create", "gone1")
    cli.ok("network", "create", "gone2")
    cli.ok("run", "-d", "--name", "user1", "--network", "keep", "busybox", "sleep", "600")
    r = cli("network", "prune", input="n\n")
    assert r.stdout.startswith("WARNING! This will remove all custom networks not used by at least one container.\n"
                               "Are you sure you want to continue? [y/N] ")
    assert len(lines(cli.ok("network", "ls", "-q"))) == 6
    assert cli.ok("network", "prune", "-f") == "Deleted Networks:\ngone1\ngone2\n\n"
    assert cli.ok("network", "prune", "-f") == ""
    assert sorted(lines(cli.ok("network", "ls", "--format", "{{.Name}}"))) == ["bridge", "host", "keep", "none"]


def test_connect_disconnect_cli_errors(cli):
    cli.ok("network", "create", "cn")
    cli.ok("run", "-d", "--name", "hosty", "--network", "host", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "base", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "joined", "--network", "container:base", "busybox", "sleep", "600")
    cases = [
        # Docker 20.10 (measured): a host container has the host network, which is not private
        (("connect", "cn", "hosty"), "container sharing network namespace with another container or host cannot "
                                      "be connected to any other network"),
        (("disconnect", "host", "hosty"), "container cannot be disconnected from host network or connected to host network"),
        (("connect", "cn", "joined"), "container sharing network namespace with another container or host cannot "
                                       "be connected to any other network"),
        (("connect", "nosuch", "base"), "network nosuch not found"),
        (("connect", "cn", "nosuch"), "No such container: nosuch"),
        (("disconnect", "cn", "nosuch"), "No such container: nosuch"),
    ]
    for args, msg in cases:
        r = cli("network", *args)
        assert (r.returncode, r.stderr) == (1, f"Error response from daemon: {msg}\n"), args
    # Docker 20.10 (checked on the oracle): -f does not hide a missing container
    r = cli("network", "disconnect", "-f", "cn", "nosuch")
    assert (r.returncode, r.stderr) == (1, "Error response from daemon: endpoint nosuch not found\n")
    cli.ok("network", "connect", "--alias", "db", "cn", "base")
    out = cli.ok("exec", "base", "ip", "-o", "-4", "addr", "show", "eth1")
    assert out.split()[3] == "172.18.0.2/16"
    cli.ok("network", "disconnect", "cn", "base")
    assert cli("exec", "base", "ip", "link", "show", "eth1").returncode != 0


def test_odd_names_docker_accepts(cli):
    for name in ("bad/name", "a b", ".x", "x:y", "a%b"):
        nid = cli.ok("network", "create", name).strip()
        assert HEX64.match(nid), name
        assert cli.ok("network", "inspect", "-f", "{{.Id}} {{.Name}}", name) == f"{nid} {name}\n"
    cli.ok("network", "create", "--", "-x")
    assert sorted(lines(cli.ok("network", "ls", "--format", "{{.Name}}", "-f", "type=custom"))) == \
        sorted(["bad/name", "a b", ".x", "x:y", "a%b", "-x"])
    assert cli.ok("network", "rm", "bad/name", "a b", ".x", "x:y", "a%b", "--", "-x") == \
        "bad/name\na b\n.x\nx:y\na%b\n-x\n"


def test_create_exhausted_default_pools(cli):
    import subprocess
    subprocess.run(["ip", "link", "add", "mdtfull0", "type", "veth", "peer", "name", "mdtfull1"], check=True)
    try:
        subprocess.run(["ip", "link", "set", "mdtfull0", "up"], check=True)
        subprocess.run(["ip", "link", "set", "mdtfull1", "up"], check=True)
        for cidr in ("172.16.0.0/12", "192.168.0.0/16"):
            subprocess.run(["ip", "route", "add", cidr, "dev", "mdtfull0"], check=True)
        r = cli("network", "create", "full")
        assert (r.returncode, r.stdout, r.stderr) == (
            1, "", "Error response from daemon: could not find an available, non-overlapping IPv4 address pool "
                   "among the defaults to assign to the network\n")
        assert cli.ok("network", "ls", "-q", "-f", "type=custom") == ""
        # a user subnet still works
        cli.ok("network", "create", "--subnet", "10.81.0.0/24", "mine")
    finally:
        subprocess.run(["ip", "link", "del", "mdtfull0"])
