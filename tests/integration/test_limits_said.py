"""Limits said clearly, nothing left half-created: the Linux bridge's port limit
(filled for real), a network's address pool, and the daemon's open-files limit."""
import os
import subprocess

import pytest

from minidocker.errors import Exhausted, LimitReached

from .enginehelp import docker_body, ex, kernel_snapshot, run


def _batch(lines: list[str]) -> None:
    subprocess.run(["ip", "-force", "-batch", "-"], input="\n".join(lines) + "\n", text=True,
                   capture_output=True)


def _ports(bridge: str) -> int:
    out = subprocess.run(["ip", "-o", "link", "show", "master", bridge], capture_output=True, text=True).stdout
    return len(out.splitlines())


def test_bridge_port_limit_is_named_and_nothing_is_left(engine):
    engine.net.create("full", subnet="10.69.0.0/16")
    bridge = engine.find_network("full").bridge
    n = 1030  # more than the kernel takes: the bridge fills up
    try:
        _batch([f"link add fp{i} type veth peer name fq{i}" for i in range(n)] +
               [f"link set fp{i} master {bridge}" for i in range(n)])
        full = _ports(bridge)
        assert full == 1023  # BR_MAX_PORTS 1024, port 0 reserved
        before = kernel_snapshot(engine)
        c = engine.ctr.create(docker_body(Image="busybox", Cmd=["sleep", "60"], NetworkMode="full"), name="late")
        before = kernel_snapshot(engine)
        with pytest.raises(LimitReached) as info:
            engine.ctr.start(c.id)
        assert info.value.message == "network full has reached the Linux bridge's limit of 1023 ports"
        after = kernel_snapshot(engine)
        assert (after["links"], after["addrs"], after["pins"], after["nft"]) == \
            (before["links"], before["addrs"], before["pins"], before["nft"])
        assert engine.containers[c.id].status == "created"
        assert _ports(bridge) == full
        _batch([f"link del fp{i}" for i in range(n)])  # a port frees up: the same container starts
        engine.ctr.start(c.id)
        assert engine.containers[c.id].status == "running"
    finally:
        _batch([f"link del fp{i}" for i in range(n)])


def test_address_exhaustion_names_the_network(engine):
    n = engine.net.create("tiny", subnet="10.70.0.0/30")  # one address beside the gateway
    run(engine, name="t1", network="tiny")
    c = engine.ctr.create(docker_body(Image="busybox", Cmd=["sleep", "60"], NetworkMode="tiny"), name="t2")
    before = kernel_snapshot(engine)
    with pytest.raises(Exhausted) as info:
        engine.ctr.start(c.id)
    assert info.value.message == f"no available IPv4 addresses on this network's address pools: tiny ({n.id})"
    after = kernel_snapshot(engine)
    assert (after["links"], after["addrs"], after["pins"]) == (before["links"], before["addrs"], before["pins"])


@pytest.fixture
def low_fd_daemon(cli):
    """The test's daemon, its open-files limit lowered to 64 once it runs."""
    import resource
    resource.prlimit(cli.daemon.pid, resource.RLIMIT_NOFILE, (64, 64))
    return cli


def _veths() -> list:
    import json as _json
    out = subprocess.run(["ip", "-j", "link", "show", "type", "veth"], capture_output=True, text=True).stdout
    return [l["ifname"] for l in _json.loads(out or "[]")]


def test_fd_exhaustion_names_the_limit_and_leaves_nothing(low_fd_daemon):
    cli = low_fd_daemon
    started, failure = [], None
    for i in range(40):
        p = cli("run", "-d", "--name", f"fd{i}", "busybox", "sleep", "600")
        if p.returncode != 0:
            failure = p.stderr
            break
        started.append(f"fd{i}")
    print(f"\n{len(started)} containers ran under an open-files limit of 64; then: {failure}")
    assert failure is not None and "open-files limit (RLIMIT_NOFILE 64)" in failure
    running = cli.ok("ps", "-q").split()
    assert len(running) == len(started)
    assert len(_veths()) == len(started)  # no veth of the failed one
    pins = os.listdir(os.path.join(cli.run_dir, "netns"))
    assert len([p for p in pins if not p.startswith(".")]) <= len(started) + 1
    cli.ok("rm", "-f", *started[:5])
    cli.ok("run", "-d", "--name", "fd-after", "busybox", "sleep", "600")  # room again: it works


def test_a_running_container_costs_the_daemon_three_fds(cli):
    """Its two output pipes (read by the daemon) and a pidfd (its exit); the log is
    opened per write. (Plus, once, the connection to the supervisor the first run
    starts, and the netlink sockets of the two namespaces made ahead, netns.Warm.)"""
    pid = cli.daemon.pid
    cli.ok("ps")
    before = len(os.listdir(f"/proc/{pid}/fd"))
    for i in range(10):
        cli.ok("run", "-d", "--name", f"fdc{i}", "busybox", "sleep", "600")
    after = len(os.listdir(f"/proc/{pid}/fd"))
    print(f"\nfds: {before} with no container, {after} with 10")
    assert after - before <= 30 + 1 + 2


def test_accept_survives_running_out_of_fds(low_fd_daemon, tmp_path):
    """More connections than fds: accept() fails with EMFILE, the daemon logs it,
    waits a little, and serves again once they are gone."""
    import socket
    import time
    held = []
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(os.path.join(low_fd_daemon.run_dir, "minidocker.sock"))
        except (BlockingIOError, ConnectionRefusedError):  # the backlog is full
            s.close()
            break
        held.append(s)
    log = tmp_path / "daemon.log"
    deadline = time.monotonic() + 30
    while "accept failed (Too many open files)" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "accept failed (Too many open files), retrying in" in log.read_text()
    for s in held:
        s.close()
    assert low_fd_daemon.daemon.poll() is None
    deadline = time.monotonic() + 30
    while low_fd_daemon("ps").returncode != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert low_fd_daemon("ps").returncode == 0


def test_a_daemon_holding_over_1024_descriptors_goes_on(engine):
    """A thousand containers give the daemon several thousand descriptors; select()
    (Python's: ValueError, libnftables': the whole process aborted) takes none from
    1024 on. Here the engine runs with 1,100 more open, then creates a network (nft),
    starts a container on it (the start's handshake), execs in it and reads its
    output (the copiers)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    ballast = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(ballast) >= 1100
        engine.net.create("manyfds", subnet="10.68.0.0/24")
        c = run(engine, "sh", "-c", "echo hello-from-a-high-fd; sleep 600", name="hifd", network="manyfds")
        assert ex(engine, c, "echo", "exec-ok") == (0, "exec-ok\n")
        log_path = os.path.join(engine.store.bundle(c.id), "container.log")
        for _ in range(100):
            if os.path.exists(log_path) and "hello-from-a-high-fd" in open(log_path).read():
                break
            import time
            time.sleep(0.05)
        else:
            raise AssertionError("the container's output never reached its log")
        engine.ctr.remove(c.id, force=True)
        engine.net.remove("manyfds")
    finally:
        for fd in ballast:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
