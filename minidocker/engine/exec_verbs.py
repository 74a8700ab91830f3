"""`docker exec`: exec instances (create, start, inspect, resize), as Docker's
/containers/{id}/exec and /exec/{id}/... endpoints want them.

An instance is made by ``create``, run once by ``start``: the process gets pipes
(or a terminal) owned by the daemon through a StreamHub, whose streams end only
once the exit code is recorded (clients read `GET /exec/{id}/json` right after
the stream ends). The minidocker CLI's fast path (``run``: its own fds, or a
pty master handed back) stays beside it.
"""
import logging
import threading

from minidocker.engine import users as exec_user
from minidocker.engine.events import container_attributes
from minidocker.engine.container_io import StreamHub
from minidocker.errors import Conflict, InvalidArgument, MinidockerError, NotFound, StartError
from minidocker.ids import new_id
from minidocker import faults
from minidocker.runtime import exec as runexec
from minidocker.runtime import process

log = logging.getLogger(__name__)


class ExecInstance:
    def __init__(self, eid: str, cid: str, body: dict):
        self.id, self.cid = eid, cid
        self.argv = list(body.get("Cmd") or [])
        self.env = list(body.get("Env") or [])
        self.cwd = body.get("WorkingDir") or ""
        self.user = body.get("User") or ""
        self.tty = bool(body.get("Tty"))
        self.stdin, self.stdout, self.stderr = (bool(body.get(k)) for k in
                                                ("AttachStdin", "AttachStdout", "AttachStderr"))
        self.running = False
        self.started = False
        self.exit_code: int | None = None
        self.pid = 0
        self.start_error = ""
        self.hub = StreamHub(self.tty, self.stdin, True, end_on_exit=True)

    def inspect(self) -> dict:
        return {"ID": self.id, "Running": self.running, "ExitCode": self.exit_code,
                "ProcessConfig": {"tty": self.tty, "entrypoint": self.argv[0] if self.argv else "",
                                  "arguments": self.argv[1:], "privileged": False,
                                  **({"user": self.user} if self.user else {})},
                "OpenStdin": self.stdin, "OpenStderr": self.stderr, "OpenStdout": self.stdout,
                "CanRemove": False, "ContainerID": self.cid, "DetachKeys": "", "Pid": self.pid}


class ExecVerbs:
    def __init__(self, engine):
        self.e = engine
        self.instances: dict[str, ExecInstance] = {}

    def _running(self, ref: str):
        """The running container ``ref`` and its init's handle (409 otherwise)."""
        c = self.e.find_container(ref)
        if c.status == "restarting":
            raise Conflict(f"Container {c.id} is restarting, wait until the container is running")
        if c.status != "running":
            raise Conflict(f"Container {c.id} is not running")
        if c.paused:
            raise Conflict(f"Container {ref} is paused, unpause the container before exec")
        handle = process.Handle.from_dict(c.handle)
        if not process.is_running(handle):  # pid + start time: never another process
            raise Conflict(f"Container {c.id} is not running")
        return c, handle

    def create(self, ref: str, body: dict) -> str:
        if not isinstance(body, dict):
            raise InvalidArgument("exec configuration must be a JSON object")
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            body = dict(body, Cmd=[cmd])
        elif cmd is not None and not (isinstance(cmd, list) and all(isinstance(a, str) for a in cmd)):
            raise MinidockerError("json: cannot unmarshal into Go struct field ExecConfig.Cmd of type string")
        with self.e.lock:
            c, _ = self._running(ref)
            if not body.get("Cmd"):
                raise InvalidArgument("No exec command specified")
            inst = ExecInstance(new_id(), c.id, body)
            self.instances[inst.id] = inst
            c.exec_ids.append(inst.id)
            self._event(c, inst, "exec_create: " + " ".join(inst.argv))
            return inst.id

    def _event(self, c, inst: ExecInstance, action: str, **extra) -> None:
        self.e.events.emit("container", action, c.id, container_attributes(c, execID=inst.id, **extra))

    def get(self, eid: str) -> ExecInstance:
        inst = self.instances.get(eid)
        if inst is None:
            hits = [i for i in self.instances.values() if eid and i.id.startswith(eid)]
            if len(hits) != 1:
                raise NotFound(f"No such exec instance: {eid}")
            inst = hits[0]
        return inst

    def inspect(self, eid: str) -> dict:
        with self.e.lock:
            return self.get(eid).inspect()

    def check_start(self, eid: str) -> ExecInstance:
        """Before the answer's head: the instance exists, has not run, its container runs."""
        with self.e.lock:
            inst = self.get(eid)
            if inst.started:
                raise Conflict(f"Error: Exec command {inst.id} is already running")
            self._running(inst.cid)
            return inst

    def start(self, inst: ExecInstance, sink=None) -> StreamHub:
        """Run the instance on a thread; ``sink`` gets its output. Returns its hub."""
        with self.e.lock:
            if inst.started:
                raise Conflict(f"Error: Exec command {inst.id} is already running")
            c, handle = self._running(inst.cid)
            inst.started = inst.running = True
            cwd = inst.cwd or c.workdir or "/"
            self._event(c, inst, "exec_start: " + " ".join(inst.argv))
        if sink is not None:
            inst.hub.subscribe(sink)
        threading.Thread(target=self._run, args=(inst, handle.pid, cwd, c.user, list(c.env)),
                         name=f"exec-{inst.id[:12]}", daemon=True).start()
        return inst.hub

    def _run(self, inst: ExecInstance, init_pid: int, cwd: str, default_user: str = "", env: list = ()) -> None:
        hub = inst.hub
        fds = hub.child_fds()
        began = []

        def on_start(pid):
            inst.pid = pid
            faults.point("exec.process")
            if not inst.tty:
                began.append(True)
                hub.begin()

        def on_pty(master):
            began.append(True)
            hub.begin(master)
        try:
            user = exec_user.credentials(inst.user or default_user, init_pid, env)
            code = runexec.exec_(init_pid, inst.argv, inst.env, cwd, inst.tty, fds, stdin_open=inst.stdin,
                                 on_pty=on_pty, on_start=on_start, user=user, run_dir=self.e.run_dir)
        except MinidockerError as ex:  # it could not start: Docker tells the client in the stream
            code = ex.code if isinstance(ex, StartError) else 126
            inst.start_error = ex.message  # (a health probe records it as Docker's: -1 and the text)
            if not began:
                hub.abort()
                hub.begin(copy_output=False)
            with hub.cond:
                subs = list(hub.subs)
            for s in subs:
                s.write(1, (ex.message + "\r\n").encode())
        except Exception:  # noqa: BLE001
            log.exception("exec %s failed", inst.id[:12])
            code = 126
            if not began:
                hub.abort()
                hub.begin(copy_output=False)
        with self.e.lock:
            inst.exit_code = code
            inst.running = False
            c = self.e.containers.get(inst.cid)
            if c is not None:
                self._event(c, inst, "exec_die", exitCode=code)
        hub.process_exited()

    def resize(self, eid: str, h: int, w: int) -> None:
        with self.e.lock:
            inst = self.get(eid)
            if inst.started and not inst.running:
                raise MinidockerError("cannot resize a stopped container: unknown")
        inst.hub.resize(h, w)

    def forget_container(self, cid: str) -> None:
        for eid in [i.id for i in self.instances.values() if i.cid == cid]:
            self.instances.pop(eid, None)

    # ---- run here: the caller's own stdio, or a terminal handed back ------------------
    def run_instance(self, inst: ExecInstance, stdio_fds, on_pty=None) -> int:
        """Run ``inst`` and wait: the process writes to ``stdio_fds`` (the minidocker
        CLI's own stdin, stdout, stderr, passed with the request), or to a terminal
        whose master goes to ``on_pty``, or (neither) to /dev/null. Its exit code."""
        with self.e.lock:
            if inst.started:
                raise Conflict(f"Error: Exec command {inst.id} is already running")
            c, handle = self._running(inst.cid)
            if inst.cwd and not inst.cwd.startswith("/"):
                raise StartError(126, "OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown")
            inst.started = inst.running = True
            cwd = inst.cwd or c.workdir or "/"
            self._event(c, inst, "exec_start: " + " ".join(inst.argv))
        code = 126
        try:
            user = exec_user.credentials(inst.user or c.user, handle.pid, c.env)
            code = runexec.exec_(handle.pid, inst.argv, inst.env, cwd, inst.tty, stdio_fds,
                                 stdin_open=True, on_pty=on_pty, user=user,
                                 on_start=lambda pid: faults.point("exec.process"), run_dir=self.e.run_dir)
            return code
        finally:
            with self.e.lock:
                inst.exit_code, inst.running = code, False
                self._event(c, inst, "exec_die", exitCode=code)

    def start_detached(self, inst: ExecInstance) -> None:
        """`exec -d`: stdio on /dev/null, not waited for; a process that cannot start
        is reported (it fails within milliseconds), as Docker reports it."""
        failed: list = []

        def run():
            try:
                self.run_instance(inst, None)
            except Exception as ex:  # noqa: BLE001 - handed to the caller below
                failed.append(ex)
        t = threading.Thread(target=run, name=f"exec-{inst.id[:12]}", daemon=True)
        t.start()
        t.join(timeout=1.0)
        if failed:
            raise failed[0]

    def run(self, ref: str, argv: list, env: list, cwd: str, tty: bool, stdio_fds, on_pty=None) -> int:
        """create + run_instance in one call (the engine's tests use it)."""
        inst = self.get(self.create(ref, {"Cmd": list(argv), "Env": list(env), "WorkingDir": cwd, "Tty": tty}))
        return self.run_instance(inst, stdio_fds, on_pty=on_pty)
