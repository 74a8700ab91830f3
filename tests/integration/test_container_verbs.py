"""Issue 11's container settings through our CLI and a real daemon: -u (exec -u),
--init, --stop-signal/--stop-timeout, --entrypoint, --env-file, --label-file.
Checked against the kernel (/proc/PID/status, PID 1's comm, zombies)."""
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
