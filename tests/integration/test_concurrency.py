"""Many `run`s at once on one network: every address differs, and each container
sees on its eth0 exactly the address the daemon gave it."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

from .enginehelp import body, ex, ip_j

N = 50


def _seen(engine, c) -> str:
    code, out = ex(engine, c, "ip", "-o", "-4", "addr", "show", "eth0")
    assert code == 0, out
    return out.split()[3]


def test_50_concurrent_runs_engine(engine):
    net = engine.net.create("busy", subnet="10.70.0.0/24")

    def one(i):
        c = engine.ctr.create(body({"Name": f"c{i:02d}", "Image": "busybox", "Cmd": ["sleep", "600"],
                               "NetworkMode": "busy"}))
        engine.ctr.start(c.id)
        return c

    with ThreadPoolExecutor(max_workers=16) as pool:
        ctrs = list(pool.map(one, range(N)))
    given = [c.endpoints[net.id]["ip"] for c in ctrs]
    assert len(set(given)) == N
    # lowest free: exactly .2 .. .51 whatever the order of arrival
    assert sorted(given, key=lambda a: tuple(map(int, a.split(".")))) == [f"10.70.0.{i}" for i in range(2, 52)]
    seen = {c.id: _seen(engine, c) for c in ctrs}
    assert seen == {c.id: f"{c.endpoints[net.id]['ip']}/24" for c in ctrs}
    # MACs follow, and all 50 host ends are on the bridge
    assert len(ip_j("link", "show", "master", net.bridge)) == N

    # concurrent removals and runs: released addresses are handed out again, never twice
    def churn(i):
        if i % 2:
            engine.ctr.remove(ctrs[i].id, force=True)
            return None
        return one(100 + i)

    with ThreadPoolExecutor(max_workers=16) as pool:
        new = [c for c in pool.map(churn, range(N)) if c]
    live = [c for c in engine.containers.values() if net.id in c.endpoints]
    assert len(live) == N
    ips = [c.endpoints[net.id]["ip"] for c in live]
    assert len(set(ips)) == N
    for c in new:
        assert _seen(engine, c) == f"{c.endpoints[net.id]['ip']}/24"


def test_parallel_cli_runs(cli):
    cli.ok("network", "create", "--subnet", "10.71.0.0/24", "clinet")
    procs = []
    for p in range(4):
        script = " && ".join(
            " ".join(cli.cmd("run", "-d", "--name", f"p{p}r{r}", "--network", "clinet", "busybox", "sleep", "600"))
            for r in range(5))
        procs.append(subprocess.Popen(["sh", "-c", script], env=cli.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    for pr in procs:
        out, err = pr.communicate(timeout=120)
        assert pr.returncode == 0, err
        assert len(out.split()) == 5
    members = json.loads(cli.ok("network", "inspect", "-f", "{{json .Containers}}", "clinet"))
    assert len(members) == 20
    ips = {m["Name"]: m["IPv4Address"] for m in members.values()}
    assert len(set(ips.values())) == 20
    assert sorted(ips.values()) == sorted(f"10.71.0.{i}/24" for i in range(2, 22))
    for name, ip in ips.items():
        out = cli.ok("exec", name, "ip", "-o", "-4", "addr", "show", "eth0")
        assert out.split()[3] == ip, name
