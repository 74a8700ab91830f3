"""Issue 11's container verbs through our CLI and a real daemon: -u, --init,
--stop-signal/--stop-timeout, --entrypoint, --env-file, rename, wait, start -a,
logs --timestamps/--since/--until, health checks. Checked against the kernel
where it applies (/proc/PID/status, PID 1's comm)."""
import json
import re
import time

import pytest

from .dockerhelp import Docker


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


@pytest.fixture
def dockerpy(docker):
    client = docker.py()
    yield client
    client.close()



def _inspect(cli, ref):
    return json.loads(cli.ok("inspect", ref))[0]


def _status_ids(pid: int) -> tuple[list, list, list]:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields["Uid"], fields["Gid"], fields["Groups"]


def test_run_user_names_and_ids(cli):
    assert cli.ok("run", "--rm", "-u", "nobody", "busybox", "sh", "-c", "id; echo HOME=$HOME").split("\n")[:2] == [
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)", "HOME=/nonexistent"]
    assert cli.ok("run", "--rm", "-u", "1234:5678", "busybox", "sh", "-c", "id; echo HOME=$HOME").split("\n")[:2] == [
        "uid=1234 gid=5678 groups=5678", "HOME=/"]
    assert cli.ok("run", "--rm", "-u", "root:nogroup", "busybox", "id").strip() == \
        "uid=0(root) gid=65534(nogroup) groups=65534(nogroup)"
    assert cli.ok("run", "--rm", "-u", "1000", "busybox", "id").strip() == "uid=1000 gid=0(root) groups=0(root)"
    p = cli("run", "--rm", "-u", "nouser", "busybox", "id")
    assert p.returncode == 125
    assert p.stderr.endswith("Error response from daemon: unable to find user nouser: "
                             "no matching entries in passwd file.\n")
    p = cli("run", "--rm", "-u", "root:nosuchgrp", "busybox", "id")
    assert p.returncode == 125 and "unable to find group nosuchgrp: no matching entries in group file." in p.stderr
    # the kernel's view of the process
    cli.ok("run", "-d", "--name", "u1", "-u", "daemon:bin", "busybox", "sleep", "600")
    pid = _inspect(cli, "u1")["State"]["Pid"]
    uid, gid, groups = _status_ids(pid)
    assert uid == ["1"] * 4 and gid == ["2"] * 4 and groups == ["2"]
    assert _inspect(cli, "u1")["Config"]["User"] == "daemon:bin"
    # exec: the container's user by default, -u to change it
    assert cli.ok("exec", "u1", "id").strip() == "uid=1(daemon) gid=2(bin) groups=2(bin)"
    assert cli.ok("exec", "-u", "nobody", "u1", "sh", "-c", "id; echo $HOME").split("\n")[:2] == [
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)", "/nonexistent"]
    p = cli("exec", "-u", "nouser", "u1", "id")
    assert (p.returncode, p.stdout) == (126, "unable to find user nouser: no matching entries in passwd file\n")  # "\r\n" read as text
    p = cli("exec", "-u", "0:nosuch", "u1", "id")
    assert (p.returncode, p.stdout) == (126, "unable to find group nosuch: no matching entries in group file\n")
    p = cli("exec", "-d", "-u", "nouser", "u1", "true")
    assert (p.returncode, p.stderr) == (1, "Error response from daemon: unable to find user nouser: "
                                           "no matching entries in passwd file\n")


def test_created_container_with_unknown_user_records_the_error(cli):
    p = cli("run", "-d", "--name", "u2", "-u", "nouser", "busybox", "id")
    assert p.returncode == 125
    info = _inspect(cli, "u2")
    assert info["State"]["Status"] == "created" and info["State"]["ExitCode"] == 128
    assert info["State"]["Error"] == "unable to find user nouser: no matching entries in passwd file"
    p = cli("start", "u2")
    assert p.returncode == 1 and "unable to find user nouser" in p.stderr


def test_init_is_pid1_and_reaps(cli, docker):
    out = cli.ok("run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/comm; cat /proc/1/cmdline | tr '\\0' ' '")
    assert out.split("\n")[:2] == ["docker-init", "/sbin/docker-init -- sh -c cat /proc/1/comm; cat /proc/1/cmdline | tr '\\0' ' ' "]
    cli.ok("run", "-d", "--name", "i1", "--init", "busybox", "sleep", "600")
    info = _inspect(cli, "i1")
    assert info["HostConfig"]["Init"] is True and info["Path"] == "sleep" and info["Args"] == ["600"]
    with open(f"/proc/{info['State']['Pid']}/comm") as f:
        assert f.read().strip() == "docker-init"
    mounts = cli.ok("exec", "i1", "cat", "/proc/mounts")
    assert re.search(r" /sbin/docker-init \S+ ro[, ]", mounts)
    # a plain stop: tini forwards SIGTERM to sleep, which dies of it (143 = 128 + 15)
    t0 = time.monotonic()
    cli.ok("stop", "-t", "20", "i1")
    assert time.monotonic() - t0 < 15  # it did not wait for the SIGKILL
    assert _inspect(cli, "i1")["State"]["ExitCode"] == 143
    assert "Init" not in _inspect(cli, docker.ok("create", "busybox", "true").strip())["HostConfig"]


def test_stop_signal_and_timeout(cli, docker):
    cli.ok("run", "-d", "--name", "s1", "--stop-signal", "USR1", "--stop-timeout", "3", "busybox", "sh", "-c",
           'trap "echo got USR1; exit 3" USR1; while true; do sleep 0.1; done')
    info = _inspect(cli, "s1")
    assert (info["Config"]["StopSignal"], info["Config"]["StopTimeout"]) == ("USR1", 3)
    time.sleep(0.5)
    cli.ok("stop", "s1")
    assert _inspect(cli, "s1")["State"]["ExitCode"] == 3
    assert cli.ok("logs", "s1") == "got USR1\n"
    p = cli("run", "--stop-signal", "FOO", "busybox", "true")
    assert (p.returncode, p.stderr) == (125, "minidocker: Error response from daemon: Invalid signal: FOO.\n"
                                             "See 'minidocker run --help'.\n")
    p = cli("run", "--stop-timeout", "abc", "busybox", "true")
    assert p.returncode == 125 and p.stderr.startswith(
        'invalid argument "abc" for "--stop-timeout" flag: strconv.ParseInt: parsing "abc": invalid syntax')
    plain = _inspect(cli, docker.ok("create", "busybox", "true").strip())["Config"]
    assert "StopSignal" not in plain and "StopTimeout" not in plain


def test_stop_timeout_then_kill(cli):
    cli.ok("run", "-d", "--name", "s2", "--stop-timeout", "1", "busybox", "sh", "-c",
           'trap "" TERM; while true; do sleep 0.1; done')
    time.sleep(0.3)
    cli.ok("stop", "s2")
    assert _inspect(cli, "s2")["State"]["ExitCode"] == 137


def test_entrypoint(cli, docker):
    assert cli.ok("run", "--rm", "--entrypoint", "echo", "busybox", "hi", "there") == "hi there\n"
    cid = docker.ok("create", "--entrypoint", "", "busybox", "echo", "x").strip()
    info = _inspect(cli, cid)
    assert (info["Config"]["Entrypoint"], info["Config"]["Cmd"], info["Path"], info["Args"]) == \
        (None, ["echo", "x"], "echo", ["x"])
    assert cli.ok("start", "-a", cid) == "x\n"
    cid = docker.ok("create", "--entrypoint", "sh -c", "busybox", "echo x").strip()
    assert _inspect(cli, cid)["Config"]["Entrypoint"] == ["sh -c"]


def test_env_file(cli, docker, tmp_path, monkeypatch):
    f = tmp_path / "a.env"
    f.write_text('# comment\nA=1\n  B= 2 \nHOMEVAR\n  SP\nEMPTY=\n\nC="q"\nUNSETVAR\n#x=1\n\tT=\t1\n')
    cli.env["HOMEVAR"], cli.env["SP"] = "fromhost", "sp"
    try:
        out = cli.ok("run", "--rm", "--env-file", str(f), "-e", "A=2", "busybox", "env").splitlines()
    finally:
        del cli.env["HOMEVAR"], cli.env["SP"]
    want = ["A=2", "B= 2 ", "HOMEVAR=fromhost", "SP=sp", "EMPTY=", 'C="q"', "T=\t1"]
    assert [line for line in out if line in want] == want and not [x for x in out if x.startswith("UNSETVAR")]
    # the docker CLI reads the file the same way (Config.Env as it sent it)
    docker.env.update(HOMEVAR="fromhost", SP="sp")
    env = _inspect(cli, docker.ok("create", "--env-file", str(f), "-e", "A=2", "busybox", "true").strip())["Config"]["Env"]
    assert [e for e in env if not e.startswith("PATH=")] == want
    for text, msg in (("A B=1\n", "poorly formatted environment: variable 'A B' contains whitespaces"),
                      ("=bad\n", "poorly formatted environment: no variable name on line '=bad'"),
                      ("  SP  \n", "poorly formatted environment: variable 'SP  ' contains whitespaces")):
        f.write_text(text)
        p = cli("run", "--rm", "--env-file", str(f), "busybox", "true")
        assert (p.returncode, p.stderr) == (125, f"minidocker: {msg}.\nSee 'minidocker run --help'.\n")
    p = cli("run", "--rm", "--env-file", str(tmp_path / "nonexist.env"), "busybox", "true")
    assert p.returncode == 125 and f"open {tmp_path}/nonexist.env: no such file or directory." in p.stderr
    f.write_bytes(b"\xff\xfe=1\n")
    p = cli("run", "--rm", "--env-file", str(f), "busybox", "true")
    assert f"env file {f} contains invalid utf8 bytes at line 1: [255 254 61 49]." in p.stderr
    assert len(cli.ok("ps", "-aq").split()) == 1  # only the one created above


def test_labels_and_label_file(cli, tmp_path):
    f = tmp_path / "l"
    f.write_text("team=net\n# no\nsolo\n")
    cli.ok("run", "-d", "--name", "l1", "--label-file", str(f), "-l", "tier=web", "busybox", "sleep", "600")
    assert _inspect(cli, "l1")["Config"]["Labels"] == {"team": "net", "solo": "", "tier": "web"}
    cli.ok("run", "-d", "--name", "l2", "-l", "tier=db", "busybox", "sleep", "600")
    assert cli.ok("ps", "--filter", "label=tier=web", "--format", "{{.Names}}").split() == ["l1"]
    assert sorted(cli.ok("ps", "--filter", "label=tier", "--format", "{{.Names}}").split()) == ["l1", "l2"]


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
    second = p = cli("logs", "-t", "l1").stdout.splitlines()[1].split()[0]
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


def _zombies_under(pid: int) -> list[int]:
    """Zombie processes among ``pid``'s children and their descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except FileNotFoundError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                continue
            if state == "Z":
                out.append(k)
            todo.append(k)
    return out


def test_init_reaps_orphans(cli):
    # the orphan's parent is PID 1: `sleep` never reaps it, the init does
    script = "(sleep 0.2 &); exec sleep 600"
    cli.ok("run", "-d", "--name", "z0", "busybox", "sh", "-c", script)
    cli.ok("run", "-d", "--name", "z1", "--init", "busybox", "sh", "-c", script)
    time.sleep(1.0)
    plain, tini = (_inspect(cli, n)["State"]["Pid"] for n in ("z0", "z1"))
    with open(f"/proc/{plain}/task/{plain}/children") as f:
        orphans = [int(x) for x in f.read().split()]
    assert orphans and all(open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()[0] == "Z" for k in orphans)
    assert _zombies_under(tini) == []


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
