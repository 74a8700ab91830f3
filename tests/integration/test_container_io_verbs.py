"""Issue 11's container verbs through our CLI, the docker CLI 20.10 and docker-py:
rename, create/start -a/attach/wait, logs --timestamps/--since/--until with the
streams apart, health checks (State.Health, ps, events, filters)."""
import re
import time

from .test_container_verbs import _inspect, docker, dockerpy  # noqa: F401  (fixtures)


def test_rename(cli):
    cli.ok("network", "create", "rnet")
    cli.ok("run", "-d", "--name", "r1", "--network", "rnet", "busybox", "sleep", "600")
    cli.ok("run", "-d", "--name", "r2", "--network", "rnet", "busybox", "sleep", "600")
    ip = _inspect(cli, "r1")["NetworkSettings"]["Networks"]["rnet"]["IPAddress"]
    assert ip in cli.ok("exec", "r2", "nslookup", "r1", "127.0.0.11")
    hosts_before = cli.ok("exec", "r2", "cat", "/etc/hosts")
    cli.ok("rename", "r1", "r1new")
    assert _inspect(cli, "r1new")["Name"] == "/r1new"
    assert ip in cli.ok("exec", "r2", "nslookup", "r1new", "127.0.0.11")
    p = cli("exec", "r2", "nslookup", "-timeout=1", "r1", "127.0.0.11")
    assert p.returncode != 0 and ip not in p.stdout  # no upstream here: Docker's answer is NXDOMAIN from it
    assert cli.ok("exec", "r2", "cat", "/etc/hosts") == hosts_before  # Docker leaves /etc/hosts alone
    r2 = _inspect(cli, "r2")["Id"]
    p = cli("rename", "r1new", "r2")
    assert p.returncode == 1 and p.stderr == (
        'Error response from daemon: Error when allocating new name: Conflict. The container name "/r2" is already '
        f'in use by container "{r2}". You have to remove (or rename) that container to be able to reuse that name.\n'
        "Error: failed to rename container named r1new\n")
    p = cli("rename", "r2", "r2")
    assert p.stderr == ("Error response from daemon: Renaming a container with the same name as its current name\n"
                        "Error: failed to rename container named r2\n")
    p = cli("rename", "nosuch", "xy")
    assert p.stderr == "Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n"
    p = cli("rename", "r2", "a")
    assert p.stderr.startswith("Error response from daemon: Error when allocating new name: Invalid container name (/a), "
                               "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n")
    p = cli("rename", "r2", "")
    assert (p.returncode, p.stderr) == (1, "Error: Neither old nor new names may be empty\n")
    cli.ok("rename", "r2", "/r3")
    assert sorted(cli.ok("ps", "--format", "{{.Names}}").split()) == ["r1new", "r3"]
    # a stopped container renamed comes back on the DNS under its new name
    cli.ok("stop", "-t", "0", "r1new")
    cli.ok("rename", "r1new", "r4")
    cli.ok("start", "r4")
    ip4 = _inspect(cli, "r4")["NetworkSettings"]["Networks"]["rnet"]["IPAddress"]
    assert ip4 in cli.ok("exec", "r3", "nslookup", "r4", "127.0.0.11")


def test_wait_start_attach_and_logs(cli, docker):
    docker.ok("create", "--name", "a1", "busybox", "sh", "-c", "echo o; echo e >&2; exit 3")
    p = cli("start", "-a", "a1")
    assert (p.returncode, p.stdout, p.stderr) == (3, "o\n", "e\n")
    assert cli.ok("wait", "a1") == "3\n"
    p = cli("wait", "a1", "nosuch")
    assert (p.returncode, p.stdout, p.stderr) == (1, "3\n", "Error response from daemon: No such container: nosuch\n")
    p = cli("start", "-a", "nosuch")
    assert (p.returncode, p.stderr) == (1, "Error: No such container: nosuch\n")
    p = cli("attach", "a1")
    assert (p.returncode, p.stderr) == (1, "You cannot attach to a stopped container, start it first\n")
    docker.ok("create", "--name", "a2", "-i", "busybox", "sh", "-c", "read x; echo got $x")
    assert cli.ok("start", "-ai", "a2", input="hello\n") == "got hello\n"
    # logs: stdout and stderr apart, timestamps, since/until
    cli.ok("run", "--name", "l1", "busybox", "sh", "-c", "echo out1; echo err1 >&2; sleep 1.2; echo out2; echo err2 >&2")
    p = cli("logs", "l1")
    assert (p.stdout, p.stderr) == ("out1\nout2\n", "err1\nerr2\n")
    p = cli("logs", "-t", "l1")
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "
    assert re.fullmatch(f"{stamp}out1\n{stamp}out2\n", p.stdout) and re.fullmatch(f"{stamp}err1\n{stamp}err2\n", p.stderr)
    p = cli("logs", "--tail", "1", "l1")  # the last line of the log, whichever stream wrote it last
    assert p.stdout + p.stderr in ("out2\n", "err2\n")
    p = cli("logs", "--since", "2020-01-01", "--until", "2020-01-02", "l1")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    p = cli("logs", "-t", "l1")  # the later two lines: each stream is copied (and stamped) apart
    second = min(p.stdout.splitlines()[1].split()[0], p.stderr.splitlines()[1].split()[0])
    p = cli("logs", "--since", second, "l1")
    assert (p.stdout, p.stderr) == ("out2\n", "err2\n")
    p = cli("logs", "--since", "bogus", "l1")
    assert (p.returncode, p.stderr) == (1, 'invalid value for "since": failed to parse value as time or duration: "bogus"\n')


def test_health_checks(cli):
    cli.ok("run", "-d", "--name", "h1", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s",
           "--health-timeout", "2s", "--health-retries", "2", "busybox", "sleep", "600")
    info = _inspect(cli, "h1")
    assert info["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "test -f /tmp/ok"], "Interval": 1000000000,
                                             "Timeout": 2000000000, "Retries": 2}
    assert info["State"]["Health"] == {"Status": "starting", "FailingStreak": 0, "Log": []}
    assert cli.ok("ps", "--format", "{{.Status}}").strip().endswith("(health: starting)")
    assert cli.ok("ps", "--filter", "health=starting", "--format", "{{.Names}}").split() == ["h1"]
    deadline = time.monotonic() + 30
    while _inspect(cli, "h1")["State"]["Health"]["Status"] != "unhealthy":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    health = _inspect(cli, "h1")["State"]["Health"]
    assert health["FailingStreak"] >= 2 and health["Log"][-1]["ExitCode"] == 1
    assert cli.ok("ps", "--format", "{{.Status}}").strip().endswith("(unhealthy)")
    cli.ok("exec", "h1", "touch", "/tmp/ok")
    while _inspect(cli, "h1")["State"]["Health"]["Status"] != "healthy":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    health = _inspect(cli, "h1")["State"]["Health"]
    assert health["FailingStreak"] == 0 and health["Log"][-1]["ExitCode"] == 0 and len(health["Log"]) <= 5
    assert cli.ok("ps", "--format", "{{.Status}}").strip().endswith("(healthy)")
    assert cli.ok("ps", "--filter", "health=healthy", "--format", "{{.Names}}").split() == ["h1"]
    assert cli.ok("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}").split() == []
    cli.ok("run", "-d", "--name", "h2", "busybox", "sleep", "600")
    assert cli.ok("ps", "--filter", "health=none", "--format", "{{.Names}}").split() == ["h2"]
    # a probe that outlives its timeout: -1 and Docker's words
    cli.ok("run", "-d", "--name", "h3", "--health-cmd", "echo out; echo err >&2; sleep 3", "--health-interval", "1s",
           "--health-timeout", "1s", "--health-retries", "1", "busybox", "sleep", "600")
    while not _inspect(cli, "h3")["State"]["Health"]["Log"]:
        assert time.monotonic() < deadline + 20
        time.sleep(0.3)
    entry = _inspect(cli, "h3")["State"]["Health"]["Log"][0]
    assert (entry["ExitCode"], entry["Output"]) == (-1, "Health check exceeded timeout (1s)")
    # output of a probe: both streams
    cli.ok("run", "-d", "--name", "h4", "--health-cmd", "echo out; echo err >&2", "--health-interval", "1s",
           "busybox", "sleep", "600")
    while not _inspect(cli, "h4")["State"]["Health"]["Log"]:
        assert time.monotonic() < deadline + 30
        time.sleep(0.3)
    assert _inspect(cli, "h4")["State"]["Health"]["Log"][0]["Output"] in ("out\nerr\n", "err\nout\n")


def test_health_flags(cli, docker):
    cid = docker.ok("create", "--no-healthcheck", "busybox", "true").strip()
    info = _inspect(cli, cid)
    assert info["Config"]["Healthcheck"] == {"Test": ["NONE"]} and "Health" not in info["State"]
    cid = docker.ok("create", "--health-interval", "2s", "busybox", "true").strip()
    assert _inspect(cli, cid)["Config"]["Healthcheck"] == {"Interval": 2000000000}
    for args, msg in ((["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts with --health-* options"),
                      (["--health-retries", "-1", "--health-cmd", "true"], "--health-retries cannot be negative"),
                      (["--health-timeout", "-1s", "--health-cmd", "true"], "--health-timeout cannot be negative")):
        p = cli("run", *args, "busybox", "true")
        assert (p.returncode, p.stderr) == (125, f"minidocker: {msg}.\nSee 'minidocker run --help'.\n")
    p = cli("run", "--health-interval", "abc", "busybox", "true")
    assert p.returncode == 125 and p.stderr.startswith(
        'invalid argument "abc" for "--health-interval" flag: time: invalid duration "abc"')


def test_real_clients(cli, docker, dockerpy):
    """The docker CLI 20.10 and docker-py on the same verbs: rename, wait,
    attach (hijacked), logs with the right stream numbers, exec -u, health."""
    docker.ok("run", "-d", "--name", "d1", "-u", "nobody", "--health-cmd", "true", "--health-interval", "1s",
              "busybox", "sleep", "600")
    assert docker.ok("exec", "d1", "id").strip() == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
    assert docker.ok("exec", "-u", "0", "d1", "id").strip() == "uid=0(root) gid=0(root) groups=0(root)"
    p = docker("exec", "-u", "nouser", "d1", "id")
    assert (p.returncode, p.stdout) == (126, "unable to find user nouser: no matching entries in passwd file\n")  # "\r\n" read as text
    since = str(int(time.time()) - 1)
    docker.ok("rename", "d1", "d2")
    events = docker.ok("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "event=rename",
                       "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}")
    assert events == "rename d2 /d1\n"
    c = dockerpy.containers.get("d2")
    deadline = time.monotonic() + 30
    while c.attrs["State"]["Health"]["Status"] != "healthy":
        assert time.monotonic() < deadline
        time.sleep(0.3)
        c.reload()
    assert re.search(r"Up .* \(healthy\)", docker.ok("ps", "--format", "{{.Status}}", "--filter", "health=healthy"))
    c.rename("d3")
    c.reload()
    assert c.name == "d3"
    # logs through docker-py keep the streams apart (stream numbers in the frames)
    r = dockerpy.containers.run("busybox", ["sh", "-c", "echo o; echo e >&2"], detach=True, name="d4")
    assert r.wait()["StatusCode"] == 0
    assert r.logs(stdout=True, stderr=False) == b"o\n" and r.logs(stdout=False, stderr=True) == b"e\n"
    stamped = r.logs(timestamps=True).decode()
    assert re.fullmatch(r"(\S+Z [oe]\n){2}", stamped)
    # start -a / attach through the docker CLI (hijacked attach)
    docker.ok("create", "--name", "d5", "busybox", "sh", "-c", "echo o; echo e >&2; exit 4")
    p = docker("start", "-a", "d5")
    assert (p.returncode, p.stdout, p.stderr) == (4, "o\n", "e\n")
    assert docker.ok("wait", "d5") == "4\n"
    # docker attach (hijacked, stdin from a pipe): output apart, the exit code is the run's
    docker.ok("create", "--name", "d7", "-i", "busybox", "sh", "-c", "read x; sleep 0.5; echo got $x; echo bye >&2; exit 5")
    docker.ok("start", "d7")
    p = docker("attach", "d7", input="hello\n")
    assert (p.returncode, p.stdout, p.stderr) == (5, "got hello\n", "bye\n")
    docker.ok("run", "-d", "--name", "d8", "-i", "busybox", "sh", "-c", "read x; sleep 0.5; echo got $x; exit 6")
    p = docker("attach", "d8", input="hello\n")  # not StdinOnce: stdin's end ends the attach, as Docker's
    assert (p.returncode, p.stdout) == (6, "")
    docker.ok("run", "-d", "--name", "d6", "--stop-signal", "USR1", "--stop-timeout", "2", "--init", "busybox", "sleep", "600")
    info = dockerpy.api.inspect_container("d6")
    assert (info["Config"]["StopSignal"], info["Config"]["StopTimeout"], info["HostConfig"]["Init"]) == ("USR1", 2, True)
    docker.ok("stop", "d6")  # tini passes USR1 on to sleep, which dies of it
    assert dockerpy.api.inspect_container("d6")["State"]["ExitCode"] == 138


def test_events_health_and_stop_escalation(cli, docker):
    since = str(int(time.time()) - 1)
    cli.ok("run", "-d", "--name", "e1", "--stop-timeout", "1", "--health-cmd", "true", "--health-interval", "1s",
           "busybox", "sleep", "600")
    deadline = time.monotonic() + 30
    while _inspect(cli, "e1")["State"]["Health"]["Status"] != "healthy":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert _inspect(cli, "e1")["ExecIDs"] is None  # probes are not listed, as Docker's
    cli.ok("stop", "e1")  # sleep as PID 1 ignores SIGTERM: SIGKILL after 1s
    health = _inspect(cli, "e1")["State"]["Health"]
    assert health["Status"] == "healthy" and health["Log"]  # kept while it is stopped
    assert cli.ok("ps", "-a", "--filter", "health=healthy", "--format", "{{.Names}}").split() == ["e1"]
    events = docker.ok("events", "--since", since, "--until", str(int(time.time()) + 1), "--filter", "container=e1",
                       "--format", "{{.Action}} {{.Actor.Attributes.signal}}").splitlines()
    actions = [e for e in events if not e.startswith("exec_")]
    assert actions == ["create <no value>", "start <no value>", "health_status: healthy <no value>",
                       "kill 15", "kill 9", "die <no value>", "stop <no value>"]
    assert any(e.startswith("exec_create: /bin/sh -c true") for e in events)
    cli.ok("start", "e1")  # starting again, with the log kept
    health = _inspect(cli, "e1")["State"]["Health"]
    assert health["Status"] == "starting" and health["FailingStreak"] == 0 and health["Log"]


def test_attach_to_running_container(cli):
    # StdinOnce (create -i): the end of our stdin is the process's EOF, the output goes on
    cli.ok("create", "--name", "at1", "-i", "busybox", "sh", "-c", "read x; sleep 0.5; echo got $x; echo bye >&2; exit 5")
    cli.ok("start", "at1")
    p = cli("attach", "at1", input="hello\n")
    assert (p.returncode, p.stdout, p.stderr) == (5, "got hello\n", "bye\n")
    # run -d -i is not StdinOnce: as Docker's, the end of our stdin ends the attach (no output), and
    # the exit code is still the run's
    cli.ok("run", "-d", "--name", "at2", "-i", "busybox", "sh", "-c", "read x; sleep 0.5; echo got $x; exit 6")
    p = cli("attach", "at2", input="hello\n")
    assert (p.returncode, p.stdout) == (6, "")


def test_wait_conditions_through_the_api(cli, dockerpy):
    import threading
    c = dockerpy.containers.create("busybox", ["sh", "-c", "exit 2"], name="w1")
    assert c.wait(condition="not-running")["StatusCode"] == 0  # created: not running now
    assert c.wait(condition="bogus")["StatusCode"] == 0        # Docker takes it as not-running
    got = {}
    t = threading.Thread(target=lambda: got.update(next=c.wait(condition="next-exit")))
    t.start()
    time.sleep(0.5)
    assert not got
    c.start()
    t.join(timeout=30)
    assert got["next"]["StatusCode"] == 2
    t = threading.Thread(target=lambda: got.update(removed=c.wait(condition="removed")))
    t.start()
    time.sleep(0.5)
    assert "removed" not in got
    c.remove()
    t.join(timeout=30)
    assert got["removed"]["StatusCode"] == 2


def test_health_start_period_does_not_count_failures(cli, docker):
    cli.ok("run", "-d", "--name", "sp1", "--health-cmd", "false", "--health-interval", "1s",
           "--health-start-period", "60s", "--health-retries", "1", "busybox", "sleep", "600")
    deadline = time.monotonic() + 30
    while len(_inspect(cli, "sp1")["State"]["Health"]["Log"]) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    health = _inspect(cli, "sp1")["State"]["Health"]
    assert (health["Status"], health["FailingStreak"]) == ("starting", 0)
    assert [e["ExitCode"] for e in health["Log"]][:3] == [1, 1, 1]
    # the docker CLI's run with an unknown user: the start fails, as Docker's
    p = docker("run", "--rm", "-u", "nouser", "busybox", "id")
    assert (p.returncode, p.stderr) == (125, "docker: Error response from daemon: unable to find user nouser: "
                                             "no matching entries in passwd file.\n")


def test_create_then_start_attached(cli):
    cid = cli.ok("create", "--name", "cr1", "-i", "busybox", "cat").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    cfg = _inspect(cli, "cr1")["Config"]
    assert (cfg["AttachStdin"], cfg["AttachStdout"], cfg["OpenStdin"], cfg["StdinOnce"]) == (True, True, True, True)
    assert _inspect(cli, "cr1")["State"]["Status"] == "created"
    p = cli("start", "-ai", "cr1", input="hi\n")
    assert (p.returncode, p.stdout) == (0, "hi\n")
    p = cli("create", "--name", "cr1", "busybox", "true")
    assert p.returncode == 1 and p.stderr == (
        f'Error response from daemon: Conflict. The container name "/cr1" is already in use by container "{cid}". '
        "You have to remove (or rename) that container to be able to reuse that name.\n")
    p = cli("create", "--stop-signal", "FOO", "busybox", "true")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: Invalid signal: FOO\n")
    p = cli("create", "--no-healthcheck", "--health-cmd", "true", "busybox", "true")
    assert (p.returncode, p.stderr) == (125, "minidocker: --no-healthcheck conflicts with --health-* options.\n"
                                             "See 'minidocker create --help'.\n")
    p = cli("create", "--env-file", "/nonexist", "busybox", "true")
    assert (p.returncode, p.stderr) == (125, "minidocker: open /nonexist: no such file or directory.\n"
                                             "See 'minidocker create --help'.\n")
    assert cli.ok("ps", "-aq", "--no-trunc").split() == [cid]  # nothing made by the failures
