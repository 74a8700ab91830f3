"""One supervisor per run dir starts every container and records its exit
(runtime/supervisor.py): it survives the daemon, a restarted daemon uses it
again, and a dead one is replaced (its orphans' exits are reported as kills)."""
import json
import os
import signal
import time

from minidocker.runtime import pids, process, supervised

from .enginehelp import run
from .test_faults import Daemon, daemon  # noqa: F401 - the fixture

TRAP3 = ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 0.05; done"]


def supervisor_pid(run_dir: str) -> int | None:
    try:
        with open(os.path.join(run_dir, "supervisor.pid")) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return None
    return pid if pids.start_time(pid) is not None else None


def minidocker_processes() -> dict:
    """pid -> argv of every Python process running a runtime script of ours, in
    this test's mount namespace (other test runs on the machine have their own)."""
    out = {}
    mine = os.readlink("/proc/self/ns/mnt")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            if os.readlink(f"/proc/{entry}/ns/mnt") != mine:
                continue
        except OSError:
            continue
        if any(a.endswith(("runtime/launcher.py", "runtime/supervisor.py")) for a in argv):
            out[int(entry)] = argv
    return out


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def state(cli, name: str) -> dict:
    return json.loads(cli.ok("inspect", name))[0]["State"]


def test_fifty_containers_one_supervisor(engine):
    cs = [run(engine, "sleep", "600", name=f"s{i}", network="none") for i in range(50)]
    sup = supervisor_pid(engine.run_dir)
    assert sup is not None
    procs = minidocker_processes()
    assert list(procs) == [sup], procs  # no launcher or shim per container
    assert {parent_of(c.pid) for c in cs} == {sup}  # every init reaped by it
    listed = supervised.containers(engine.run_dir)
    assert {pid: os.path.basename(b) for pid, b in listed.items()} == {c.pid: c.id for c in cs}
    for c in cs[:25]:
        engine.ctr.remove(c.id, force=True)
    assert len(supervised.containers(engine.run_dir)) == 25
    c = run(engine, "sh", "-c", "exit 4", name="four", network="none")
    for _ in range(200):
        if engine.containers[c.id].status != "running":
            break
        time.sleep(0.02)
    assert engine.containers[c.id].exit_code == 4
    assert minidocker_processes() == {sup: procs[sup]}


def test_daemon_restart_keeps_the_supervisor_and_exit_codes(daemon):  # noqa: F811
    d, cli = daemon, daemon.cli
    d.start()
    cli.ok("run", "-d", "--name", "trap", "busybox", *TRAP3)
    cli.ok("run", "-d", "--name", "later", "busybox", "sh", "-c", "sleep 1; exit 7")
    sup = supervisor_pid(d.run)
    assert sup is not None
    d.proc.kill()  # a crash: the supervisor and the containers stay
    d.proc.wait()
    assert supervisor_pid(d.run) == sup
    time.sleep(1.5)  # "later" exits while no daemon runs: the supervisor records it
    d.start()
    assert supervisor_pid(d.run) == sup  # found again, not replaced
    assert state(cli, "later")["ExitCode"] == 7 and not state(cli, "later")["Running"]
    assert state(cli, "trap")["Running"]
    cli.ok("stop", "trap")
    assert state(cli, "trap")["ExitCode"] == 3  # the exit the restarted daemon waited for
    assert cli("run", "--rm", "busybox", "sh", "-c", "exit 5").returncode == 5
    assert supervisor_pid(d.run) == sup
    assert list(minidocker_processes()) == [sup]
    for name in ("trap", "later"):
        cli.ok("rm", name)
    d.stop()
    assert supervisor_pid(d.run) is None  # nothing to supervise, no daemon: it is gone
    assert not os.path.exists(os.path.join(d.run, "supervisor.sock"))


def test_supervisor_killed_containers_run_on_and_a_new_one_starts(daemon):  # noqa: F811
    d, cli = daemon, daemon.cli
    d.start()
    cli.ok("run", "-d", "--name", "old", "busybox", *TRAP3)
    old_pid = state(cli, "old")["Pid"]
    sup = supervisor_pid(d.run)
    started = pids.start_time(sup)
    os.kill(sup, signal.SIGKILL)
    assert pids.wait_gone(sup, started, 10)
    assert state(cli, "old")["Running"] and pids.start_time(old_pid) is not None
    assert cli.ok("exec", "old", "echo", "still").strip() == "still"
    # the daemon starts a new supervisor for the next container
    cli.ok("run", "-d", "--name", "new", "busybox", *TRAP3)
    sup2 = supervisor_pid(d.run)
    assert sup2 not in (None, sup)
    assert parent_of(state(cli, "new")["Pid"]) == sup2
    # nobody recorded the old one's exit: reported as a kill, as when a shim dies
    cli.ok("stop", "old")
    assert state(cli, "old")["ExitCode"] == 137
    cli.ok("stop", "new")
    assert state(cli, "new")["ExitCode"] == 3
    # and a restart finds the new one
    cli.ok("start", "new")
    d.proc.kill()
    d.proc.wait()
    d.start()
    assert state(cli, "new")["Running"]
    assert supervisor_pid(d.run) == sup2
    cli.ok("rm", "-f", "old", "new")
    assert process.container_processes(os.path.join(d.root, "containers"), d.run) == {}


def test_untracked_supervised_init_is_killed_at_restart(daemon):  # noqa: F811
    d, cli = daemon, daemon.cli
    d.start()
    cli.ok("run", "-d", "--name", "ghost", "busybox", "sleep", "600")
    cid = json.loads(cli.ok("inspect", "ghost"))[0]["Id"]
    pid = state(cli, "ghost")["Pid"]
    d.stop()
    # its state forgets it ran (as a crash between start and record would leave it)
    path = os.path.join(d.root, "containers", cid, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["handle"] = {**cfg["handle"], "pid": 1}
    with open(path, "w") as f:
        json.dump(cfg, f)
    started = pids.start_time(pid)
    d.start()
    assert pids.wait_gone(pid, started, 10)
    assert process.container_processes(os.path.join(d.root, "containers"), d.run) == {}
    assert not state(cli, "ghost")["Running"]


def test_per_container_switch_keeps_a_shim_each(daemon):  # noqa: F811
    d, cli = daemon, daemon.cli
    cli.env["MINIDOCKER_SHIM"] = "per-container"  # the daemon's (started with the CLI's env)
    d.start()
    cli.ok("run", "-d", "--name", "pa", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "pb", "busybox", "sleep", "600")
    procs = minidocker_processes()
    assert len(procs) == 2 and all(a[-1].endswith("launcher.py") for a in procs.values()), procs
    assert {parent_of(state(cli, n)["Pid"]) for n in ("pa", "pb")} == set(procs)
    assert supervisor_pid(d.run) is None
    assert cli("run", "--rm", "busybox", "sh", "-c", "exit 6").returncode == 6


def test_the_daemon_starts_the_supervisor_before_any_container_and_it_goes_with_it(daemon):  # noqa: F811
    """Started with the daemon (its memory a fixed cost, the first run's start not
    waiting for it); the first container is its child; a daemon stopped with
    nothing running takes it along."""
    d, cli = daemon, daemon.cli
    d.start()
    deadline = time.monotonic() + 10
    while supervisor_pid(d.run) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    sup = supervisor_pid(d.run)
    assert sup is not None and list(minidocker_processes()) == [sup]
    cli.ok("run", "-d", "--name", "first", "busybox", "sleep", "600")
    assert parent_of(state(cli, "first")["Pid"]) == sup
    cli.ok("rm", "-f", "first")
    d.stop()
    assert supervisor_pid(d.run) is None
    assert minidocker_processes() == {}
