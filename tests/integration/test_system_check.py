"""`minidocker system check`: drift between state and kernel found (one line per
finding), left alone with --dry-run, repaired by default; afterwards none."""
import json
import os
import subprocess

from minidocker.engine import system_check

from .enginehelp import ex, run


def _ip(*argv) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


def _inspect(cli, name) -> dict:
    return json.loads(cli.ok("inspect", name))[0]


def test_drift_found_then_repaired(cli):
    from minidocker.network import namespaces
    cli.ok("network", "create", "--subnet", "10.71.0.0/24", "scn")
    cli.ok("run", "-d", "--name", "sc1", "--network", "scn", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "sc2", "--network", "scn", "busybox", "sleep", "600")
    assert cli.ok("system", "check").strip() == "no drift: the kernel matches the state"
    bridge = next(l.split()[1] for l in subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                                                        text=True).stdout.splitlines() if " 10.71.0.1/24 " in l)
    pid1, pid2 = (_inspect(cli, n)["State"]["Pid"] for n in ("sc1", "sc2"))
    peer = subprocess.run(["nsenter", "-t", str(pid1), "-n", "ip", "-o", "link", "show", "eth0"],
                          capture_output=True, text=True, check=True).stdout.split("@if")[1].split(":")[0]
    veth1 = next(l.split(":")[1].strip().split("@")[0] for l in subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines() if l.startswith(peer + ":"))
    stray_pin = os.path.join(cli.run_dir, "netns", "strayns12345")
    namespaces.create_netns(stray_pin)
    _ip("link", "del", veth1)                                                     # a container's veth
    subprocess.run(["nsenter", "-t", str(pid2), "-n", "ip", "addr", "flush", "dev", "eth0"], check=True)
    _ip("link", "add", "mdvstray", "type", "veth", "peer", "name", "mdvstrayp")  # a veth nobody owns
    _ip("link", "set", "mdvstray", "master", bridge)
    p = cli("system", "check", "--dry-run")
    lines = p.stdout.splitlines()
    print("\n" + p.stdout)
    assert p.returncode == 1 and all(l.endswith(": found (dry run)") for l in lines)
    assert any(l.startswith(f"link\t{veth1}\t") for l in lines)
    assert any(l.startswith("address\tsc2:eth0\t") for l in lines)
    assert any(l.startswith("link\tmdvstray\t") for l in lines)
    assert any(l.startswith(f"namespace\t{stray_pin}\t") for l in lines)
    assert len(lines) == 4
    assert cli("system", "check", "--dry-run").stdout.splitlines() == lines  # nothing was changed
    p = cli("system", "check")
    assert p.returncode == 0 and [l.rsplit(": ", 1)[1] for l in p.stdout.splitlines()] == ["repaired"] * 4
    assert cli.ok("system", "check").strip() == "no drift: the kernel matches the state"
    assert not os.path.exists(stray_pin)
    assert cli("exec", "sc1", "ping", "-c1", "-W2", "sc2").returncode == 0
    assert cli("exec", "sc2", "ping", "-c1", "-W2", "sc1").returncode == 0


def test_dns_names_and_firewall_found_and_repaired(engine):
    engine.net.create("scd", subnet="10.72.0.0/24")
    a = run(engine, name="sca", network="scd")
    b = run(engine, name="scb", network="scd")
    net = engine.find_network("scd")
    engine.dns_table.remove_endpoint(net.id, b.id)  # forgotten name
    engine.dns_table.set_endpoint(net.id, net.name, "0" * 64, "ghost", "10.72.0.99", [])  # a stale one
    subprocess.run(["nft", "flush", "chain", "inet", "minidocker", "forward"], check=True)
    found = system_check.check(engine, repair=False)
    assert sorted((f["Kind"], f["Object"]) for f in found) == \
        [("dns", "ghost"), ("dns", "scb.scd"), ("rules", "table inet minidocker")]
    assert ex(engine, a, "nslookup", "ghost", "127.0.0.11")[0] == 0  # not repaired yet
    found = system_check.check(engine)
    assert all(f["Repaired"] for f in found) and len(found) == 3
    assert system_check.check(engine, repair=False) == []
    assert ex(engine, a, "ping", "-c1", "-W2", "scb")[0] == 0
    assert ex(engine, a, "nslookup", "ghost", "127.0.0.11")[0] != 0
