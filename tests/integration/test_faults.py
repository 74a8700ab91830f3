"""Issue 13: crashes at every step.

An error injected after any step of `run`, `network create`, `network connect`
and `exec` leaves the host exactly as before (links, addresses, nft ruleset,
netns pins, state, DNS names); one after a step of `stop` or `rm` leaves a state
that the same verb, once more, finishes. A SIGKILL of the daemon after any step,
then a restart: reconciliation leaves no leaked object, no process that nothing
tracks, and a container's process never runs twice.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from minidocker import faults
from minidocker.errors import NotFound
from minidocker.runtime import process

from .conftest import CLI, _fresh_root
from .enginehelp import drop_created, ex, kernel_snapshot, run

RUN_STEPS = faults.STEPS["run"]


@pytest.fixture(autouse=True)
def _disarm():
    yield
    faults.disarm()


def dns_names(engine) -> dict:
    """Every network's names and their addresses, as the embedded DNS answers them."""
    with engine.dns_table._lock:
        return {nid: dict(net.index) for nid, net in engine.dns_table._nets.items()}


def snapshot(engine) -> dict:
    snap = kernel_snapshot(engine)
    snap["dns"] = dns_names(engine)
    snap["processes"] = sorted(process.container_processes(os.path.join(engine.root, "containers"), engine.run_dir))
    return snap


# ---- errors: nothing changes ---------------------------------------------------------

@pytest.mark.parametrize("step", RUN_STEPS)
def test_run_error_after_each_step_changes_nothing(engine, step):
    engine.net.create("fnet", subnet="10.77.0.0/24")
    keep = run(engine, name="keep", network="fnet")  # a neighbour whose names must stay
    before = snapshot(engine)
    known = set(engine.containers)
    faults.arm(step)
    with pytest.raises(faults.InjectedFault):
        run(engine, name="victim", network="fnet", PortBindings={"80/tcp": [{"HostPort": "18480"}]})
    faults.disarm()
    drop_created(engine, known)
    assert snapshot(engine) == before
    run(engine, name="again", network="fnet", PortBindings={"80/tcp": [{"HostPort": "18480"}]})  # all free
    code, out = ex(engine, keep, "ping", "-c1", "-W2", "again")
    assert code == 0, out


@pytest.mark.parametrize("step", faults.STEPS["network-create"])
def test_network_create_error_after_each_step_changes_nothing(engine, step):
    before = snapshot(engine)
    faults.arm(step)
    with pytest.raises(faults.InjectedFault):
        engine.net.create("fnet2", subnet="10.78.0.0/24")
    faults.disarm()
    assert snapshot(engine) == before
    engine.net.create("fnet2", subnet="10.78.0.0/24")  # the name and subnet are free


@pytest.mark.parametrize("step", faults.STEPS["network-connect"])
def test_network_connect_error_after_each_step_changes_nothing(engine, step):
    engine.net.create("fa", subnet="10.79.0.0/24")
    engine.net.create("fb", subnet="10.80.0.0/24")
    c = run(engine, name="walker", network="fa")
    before = snapshot(engine)
    faults.arm(step)
    with pytest.raises(faults.InjectedFault):
        engine.net.connect("fb", c.id)
    faults.disarm()
    assert snapshot(engine) == before
    engine.net.connect("fb", c.id)
    code, out = ex(engine, c, "ip", "-o", "-4", "addr", "show", "eth1")
    assert "10.80.0.2/24" in out


def test_exec_error_after_its_process_starts_leaves_no_process(engine):
    c = run(engine, name="ex1")
    faults.arm("exec.process")
    with pytest.raises(faults.InjectedFault):
        ex(engine, c, "sleep", "601")
    faults.disarm()
    code, out = ex(engine, c, "ps", "-o", "args")
    assert "sleep 601" not in out


@pytest.mark.parametrize("step", faults.STEPS["stop"] + faults.STEPS["rm"])
def test_stop_and_rm_errors_are_finished_by_the_same_verb_again(engine, step):
    engine.net.create("fs", subnet="10.81.0.0/24")
    baseline = snapshot(engine)
    c = run(engine, name="goner", network="fs", PortBindings={"80/tcp": [{"HostPort": "18481"}]})
    faults.arm(step)
    try:
        if step.startswith("stop"):
            engine.ctr.stop(c.id, 0)
        else:
            engine.ctr.remove(c.id, force=True)
    except faults.InjectedFault:
        pass
    faults.disarm()
    if c.id in engine.containers:
        engine.ctr.remove(c.id, force=True)
    with pytest.raises(NotFound):  # and again: gone, nothing else
        engine.ctr.remove(c.id, force=True)
    assert snapshot(engine) == baseline


# ---- SIGKILL of the daemon, then a restart ------------------------------------------

class Daemon:
    """A minidockerd process that a fault may kill; started again without it."""

    def __init__(self, tmp_path, image_root):
        self.root, self.run, resolv = _fresh_root(tmp_path, image_root)
        self.cli = CLI(self.root, self.run, resolv)
        self.cli.env["MINIDOCKER_NO_AUTOSTART"] = "1"  # a CLI that finds it dead must not start another
        self.tmp = tmp_path
        self.proc = None

    def start(self, fault: str = "") -> None:
        env = dict(self.cli.env)
        env.pop("MINIDOCKER_FAULT", None)
        if fault:
            env["MINIDOCKER_FAULT"] = fault
        log = open(self.tmp / "daemon.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "minidocker.api.server", "--root", self.root,
                                      "--run", self.run], env=env, stdout=log, stderr=log)
        log.close()
        sock = os.path.join(self.run, "minidocker.sock")
        for _ in range(600):  # (not through the CLI: it would start a daemon of its own)
            if self.proc.poll() is not None:
                raise AssertionError((self.tmp / "daemon.log").read_text()[-3000:])
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(5)
                    s.connect(sock)
                    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
                    if s.recv(100).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("daemon did not answer")

    def died(self) -> bool:
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            return False
        return self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def untracked(self) -> list:
        """Shims of this root whose container is not running with that very shim."""
        running = {}
        for cid in self.cli.ok("ps", "-q", "--no-trunc").split():
            st = json.loads(self.cli.ok("inspect", cid))[0]["State"]
            running[cid] = st["Pid"]
        out = []
        for shim, (cid, children) in process.container_processes(os.path.join(self.root, "containers"), self.run).items():
            if cid not in running or running[cid] not in children:
                out.append((cid, shim, children))
        return out


@pytest.fixture
def daemon(no_leaks, tmp_path, image_root):
    d = Daemon(tmp_path, image_root)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        for cid in d.cli("ps", "-aq", "--no-trunc").stdout.split():
            d.cli("rm", "-f", cid)
        for nid in d.cli("network", "ls", "-q", "--filter", "type=custom").stdout.split():
            d.cli("network", "rm", nid)
    d.stop()
    from minidocker.engine.core import teardown_host
    teardown_host(d.run)


def links() -> list:
    return sorted(l["ifname"] for l in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True,
                                                                  text=True).stdout))


def pins(d) -> list:
    try:
        return sorted(os.listdir(os.path.join(d.run, "netns")))
    except FileNotFoundError:
        return []


KILL_CASES = [("run", s) for s in faults.STEPS["run"]] + \
             [("network-create", s) for s in faults.STEPS["network-create"]] + \
             [("network-connect", s) for s in faults.STEPS["network-connect"]] + \
             [("stop", s) for s in faults.STEPS["stop"]] + [("rm", s) for s in faults.STEPS["rm"]]


@pytest.mark.parametrize("verb,step", KILL_CASES, ids=[f"{v}:{s}" for v, s in KILL_CASES])
def test_sigkill_after_each_step_then_restart(daemon, verb, step):
    d, cli = daemon, daemon.cli
    d.start()
    cli.ok("network", "create", "--subnet", "10.82.0.0/24", "knet")
    cli.ok("run", "-d", "--name", "peer", "--network", "knet", "busybox", "sleep", "600")
    if verb in ("network-connect", "stop", "rm"):
        cli.ok("run", "-d", "--name", "victim", "--network", "knet", "busybox", "sleep", "600")
    if verb == "network-connect":
        cli.ok("network", "create", "--subnet", "10.83.0.0/24", "knet2")
    d.stop()
    d.start(fault=f"{step}=kill")
    argv = {"run": ["run", "-d", "--name", "victim", "--network", "knet", "-p", "18482:80", "busybox",
                    "sh", "-c", "echo ran >>/tmp/runs; exec sleep 600"],
            "network-create": ["network", "create", "--subnet", "10.84.0.0/24", "knew"],
            "network-connect": ["network", "connect", "knet2", "victim"],
            "stop": ["stop", "-t", "0", "victim"],
            "rm": ["rm", "-f", "victim"]}[verb]
    cli(*argv, timeout=60)
    assert d.died(), "the fault did not kill the daemon"
    d.start()  # reconciliation
    assert d.untracked() == []
    states = {json.loads(cli.ok("inspect", n))[0]["Name"].lstrip("/"): json.loads(cli.ok("inspect", n))[0]["State"]
              for n in cli.ok("ps", "-aq", "--no-trunc").split()}
    assert states["peer"]["Running"]
    if "victim" in states:  # started again (or still running): it runs exactly once now
        if not states["victim"]["Running"]:
            cli.ok("start", "victim")
        if verb == "run":  # one run at a time: a run the crash cut short was killed first
            assert set(cli.ok("exec", "victim", "cat", "/tmp/runs").splitlines()) == {"ran"}
            vid = json.loads(cli.ok("inspect", "victim"))[0]["Id"]
            assert [cid for cid, _ in process.container_processes(os.path.join(d.root, "containers"), d.run).values()
                    ].count(vid) == 1
        assert cli("exec", "peer", "ping", "-c1", "-W2", "victim").returncode == 0
        assert d.untracked() == []
    # remove everything: nothing of any of it is left
    for name in list(states):
        cli.ok("rm", "-f", name)
    for net in ("knet", "knet2", "knew"):
        cli("network", "rm", net)
    assert pins(d) == []
    assert [l for l in links() if l.startswith(("mdv", "mdbr-"))] == []
    assert process.container_processes(os.path.join(d.root, "containers"), d.run) == {}
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert "18482" not in ruleset and "10.82.0" not in ruleset


# ---- torn writes ---------------------------------------------------------------------

def test_torn_and_corrupt_state_files_never_stop_the_sweep(no_leaks, tmp_path, image_root):
    """A kill between writing a new state file and renaming it leaves only its
    config.json.tmp.*: that create never happened (the bundle goes). A state file
    that cannot be read is set aside in ROOT/corrupt and reported. Neither turns
    off the sweep: a stale netns pin still goes. Twice: the sweep is idempotent."""
    from minidocker.engine.core import Engine
    from minidocker.network import namespaces
    root, run_dir, resolv = _fresh_root(tmp_path, image_root)
    e = Engine(root, run_dir, host_resolv_conf=resolv)
    try:
        live = run(e, name="live")
        e.close()
        torn = os.path.join(root, "containers", "a" * 64)
        os.makedirs(torn)
        with open(os.path.join(torn, "config.json.tmp.123.456"), "w") as f:
            f.write('{"id": "aaaa", "na')
        bad = os.path.join(root, "containers", "b" * 64)
        os.makedirs(bad)
        with open(os.path.join(bad, "config.json"), "w") as f:
            f.write("{not json")
        namespaces.create_netns(os.path.join(run_dir, "netns", "0123456789ab"))
        for _ in range(2):
            e = Engine(root, run_dir, host_resolv_conf=resolv)
            assert sorted(os.listdir(os.path.join(run_dir, "netns"))) == [os.path.basename(live.netns)]
            assert sorted(os.listdir(os.path.join(root, "containers"))) == [live.id]
            assert [n.split(".")[0] for n in os.listdir(os.path.join(root, "corrupt"))] == ["b" * 64]
            assert e.find_container("live").status == "running"
            e.close()
        e = Engine(root, run_dir, host_resolv_conf=resolv)
    finally:
        e.close(teardown=True)


# ---- removal: idempotent and complete ------------------------------------------------

def conntrack_of(ip: str) -> list:
    from pyroute2 import Conntrack
    with Conntrack() as ct:
        return [e for e in ct.dump_entries()
                if ip in (e.tuple_orig.saddr, e.tuple_orig.daddr, e.tuple_reply.saddr, e.tuple_reply.daddr)]


def test_rm_is_idempotent_and_complete(cli):
    """rm -f of a container killed from outside, of a half-created one, and twice in
    a row: all succeed, and no veth, pin, rule, conntrack entry, process or name is left."""
    from .test_ports_reach import WEB, http_get
    cli.ok("network", "create", "--subnet", "10.85.0.0/24", "rmnet")
    cli.ok("run", "-d", "--name", "web", "--network", "rmnet", "-p", "18483:80", "busybox", *WEB)
    cli.ok("run", "-d", "--name", "peer", "--network", "rmnet", "busybox", "sleep", "600")
    view = json.loads(cli.ok("inspect", "web"))[0]
    ip = view["NetworkSettings"]["Networks"]["rmnet"]["IPAddress"]
    assert http_get("127.0.0.1", 18483).strip() == "web-ok"
    assert conntrack_of(ip)  # the connection went through DNAT to it
    os.kill(view["State"]["Pid"], signal.SIGKILL)  # killed from outside
    assert cli.ok("rm", "-f", "web") == "web\n"
    p = cli("rm", "-f", "web")  # twice: Docker 20.10 says so on stderr and exits 0 with -f
    assert p.returncode == 0 and p.stdout == "" and "No such container: web" in p.stderr
    assert conntrack_of(ip) == []
    assert cli("exec", "peer", "nslookup", "web").returncode != 0
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert "18483" not in ruleset and ip not in ruleset
    # half-created: its start failed after the plumbing (no such command)
    assert cli("run", "-d", "--name", "half", "--network", "rmnet", "busybox", "nosuchcmd").returncode == 127
    assert cli.ok("rm", "-f", "half") == "half\n"
    cli.ok("rm", "-f", "peer")
    assert [l for l in links() if l.startswith("mdv")] == []


def test_random_kills_during_run_leave_no_untracked_process_and_no_double_run(daemon):
    """The issue's abuse, bounded: SIGKILL of the daemon at a random moment of a
    `run` (5-150 ms after the CLI starts), then a restart, 12 times. Every shim is
    tracked by a running container; a container started again runs once."""
    import random
    d, cli = daemon, daemon.cli
    rng = random.Random(13)
    d.start()
    cli.ok("network", "create", "--subnet", "10.86.0.0/24", "rnet")
    names = []
    for i in range(12):
        name = f"k{i}"
        names.append(name)
        p = subprocess.Popen(cli.cmd("run", "-d", "--name", name, "--network", "rnet", "busybox", "sh", "-c",
                                     "echo ran >>/tmp/runs; exec sleep 600"),
                             env=cli.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.005, 0.15))
        d.proc.kill()
        d.proc.wait()
        p.wait(timeout=60)
        d.start()
        assert d.untracked() == [], f"kill {i}"
    for name in names:
        got = cli(*["inspect", "-f", "{{.State.Running}}", name])
        if got.returncode != 0:
            continue  # the kill came before the create was recorded
        if got.stdout.strip() != "true":
            assert cli("start", name).returncode == 0
        assert set(cli.ok("exec", name, "cat", "/tmp/runs").splitlines()) == {"ran"}
    shims = [cid for cid, _ in process.container_processes(os.path.join(d.root, "containers"), d.run).values()]
    assert len(shims) == len(set(shims))  # never two processes for one container
    assert d.untracked() == []
    for name in names:
        cli("rm", "-f", name)
    cli.ok("network", "rm", "rnet")
    assert process.container_processes(os.path.join(d.root, "containers"), d.run) == {}
