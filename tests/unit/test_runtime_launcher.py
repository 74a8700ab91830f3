"""Pure parts of the launcher and runtime API: PATH lookup, env, error codes, handles."""
import os

import pytest

from minidocker.errors import InvalidArgument, MinidockerError
from minidocker.runtime import launcher, process
from minidocker.errors import StartError


def test_exit_codes_follow_docker_cli():
    assert launcher.exit_code_for('exec: "x": executable file not found in $PATH') == 127
    assert launcher.exit_code_for('exec: "/x": stat /x: no such file or directory') == 127
    assert launcher.exit_code_for('exec: "/etc": permission denied') == 126
    assert launcher.exit_code_for("mount /proc: operation not permitted") == 125


def test_lookup_path(tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    (d / "tool").write_text("#!/bin/sh\n")
    os.chmod(d / "tool", 0o755)
    (d / "data").write_text("")
    (d / "dir").mkdir()
    env = [f"PATH=/nonexistent:{d}"]
    assert launcher.lookup("tool", env) == f"{d}/tool"
    for name in ("data", "dir", "nosuch"):
        with pytest.raises(launcher.Fail) as ei:
            launcher.lookup(name, env)
        assert ei.value.text == f'exec: "{name}": executable file not found in $PATH'
        assert ei.value.code == 127
    with pytest.raises(launcher.Fail) as ei:
        launcher.lookup("/nosuch/x", env)
    assert ei.value.text == 'exec: "/nosuch/x": stat /nosuch/x: no such file or directory'
    assert launcher.lookup(f"{d}/tool", env) == f"{d}/tool"
    for path in (f"{d}/data", f"{d}/dir"):  # Go's LookPath with a slash: a file with an execute bit
        with pytest.raises(launcher.Fail) as ei:
            launcher.lookup(path, env)
        assert (ei.value.text, ei.value.code) == (f'exec: "{path}": permission denied', 126)


def test_build_env_defaults():
    env = launcher.build_env({"env": [], "hostname": "abc", "tty": True})
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "HOSTNAME=abc", "TERM=xterm", "HOME=/root"]
    env = launcher.build_env({"env": ["PATH=/bin", "HOME=/"], "hostname": "abc", "tty": False})
    assert env == ["PATH=/bin", "HOME=/", "HOSTNAME=abc"]


def test_start_error_texts():
    e = StartError.for_run(127, 'exec: "nosuch": executable file not found in $PATH')
    assert isinstance(e, MinidockerError) and e.code == 127
    assert e.message == ('failed to create shim task: OCI runtime create failed: runc create failed: '
                         'unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown')
    e = StartError.for_exec(127, 'exec: "nosuch": executable file not found in $PATH')
    assert e.code == 126 and e.message.startswith("OCI runtime exec failed: exec failed: unable to start")


def test_handle_roundtrip():
    h = process.Handle(10, 20, 30, 40, "/b", pty_master=7)
    d = h.to_dict()
    assert d == {"pid": 10, "start_time": 20, "shim_pid": 30, "shim_start_time": 40, "bundle_dir": "/b"}
    assert process.Handle.from_dict(d) == process.Handle(10, 20, 30, 40, "/b")
    s = process.Handle(10, 20, 30, 40, "/b", supervised=True)  # its exit written by the supervisor
    assert s.to_dict() == dict(d, supervised=True)
    assert process.Handle.from_dict(s.to_dict()) == s


def test_spec_validation(tmp_path):
    ok = dict(id="x", image_rootfs=str(tmp_path), bundle_dir=str(tmp_path), argv=["true"], log_path="/l")
    process._validate(process.ContainerSpec(**ok))
    for bad in ({"argv": []}, {"image_rootfs": "/nonexistent"}, {"bundle_dir": "rel"},
                {"cwd": "rel"}, {"log_path": None}, {"stdio_fds": (1, 2)}, {"netns": "/nonexistent"}):
        with pytest.raises(InvalidArgument):
            process._validate(process.ContainerSpec(**dict(ok, **bad)))
