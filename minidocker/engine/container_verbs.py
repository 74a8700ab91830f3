"""Container verbs: create, start, wait, stop, kill, rm, and the exit watcher
(exec: exec_verbs.py; host ports: port_binding.py; stdio: container_io.py).

The runtime (runtime/) starts and stops processes; this module decides what to
start, with which namespace (sandbox.py), and keeps the state in step.
"""
import contextlib
import logging
import os
import shutil
import signal as signals
import threading
import time

from minidocker import explain, faults
from minidocker.engine import container_create, launch_options, netmode, pause, port_binding, resources, restart_policy
from minidocker.engine import volume_verbs
from minidocker.engine.container_io import Detacher, FdSink, StreamHub
from minidocker.engine.events import container_attributes
from minidocker.engine.container_stop import StopVerbs
from minidocker.engine.exec_verbs import ExecVerbs
from minidocker.engine.health import HealthMonitors
from minidocker.errors import Conflict
from minidocker.ids import now
from minidocker.engine.models import Container
from minidocker.runtime import process
from minidocker.engine.sandbox import Sandboxes, finish as finish_later

log = logging.getLogger(__name__)

class ContainerVerbs(StopVerbs):
    def __init__(self, engine):
        self.e = engine
        self.sandbox = Sandboxes(engine)
        self.exit_codes: dict[str, int] = {}
        self.exits: dict[str, int] = {}  # how many runs ended, by container id (wait next-exit)
        self.hubs: dict[str, StreamHub] = {}  # each container's stdio, owned by the daemon
        self.execs = ExecVerbs(engine)
        self.health = HealthMonitors(engine, self.execs)
        self.exit_explainers: dict[str, list] = {}  # --explain recorders waiting for an exit
        self.tearing_down = False
        self.detacher = Detacher()  # (never closed: copiers may still select on it at exit)
        self.restarts = restart_policy.Restarts(self)  # pending policy restarts (restart_policy.py)

    # ---- create (container_create.py) ----------------------------------------------
    def create(self, body: dict, name: str = "") -> Container:
        """`POST /containers/create` with Docker's body (create_spec.py)."""
        return container_create.create(self, body, name)

    # ---- start ----------------------------------------------------------------
    def start_with_pty(self, ref: str) -> int:
        """Start with a terminal opened inside the container; returns its master fd
        (the caller owns it: `run -it` hands it to the CLI)."""
        masters: list = []
        with self.e.lock:
            if self.e.find_container(ref).status == "running":
                raise Conflict(f"container {ref} is already running")
            self.start(ref, None, _pty_out=masters)
        return masters[0]

    def hub(self, c: Container) -> StreamHub:
        """The container's stdio hub (made on first use: attach may come before start)."""
        h = self.hubs.get(c.id)
        if h is None:
            bundle = self.e.store.bundle(c.id)
            h = self.hubs[c.id] = StreamHub(c.tty, c.open_stdin, c.stdin_once,
                                            os.path.join(bundle, "container.log"), fifo_dir=bundle)
            h.detacher = self.detacher
        return h

    def start(self, ref: str, stdio_fds=None, _pty_out: list | None = None, _policy: bool = False) -> Container:
        """Start (a running container is left alone). The daemon owns the stdio;
        ``stdio_fds`` (the minidocker CLI's stdin, stdout, stderr) get the output
        too, and its stdin is the container's."""
        e = self.e
        with e.lock:
            c = e.find_container(ref)
            if c.status == "running":
                return c
            if not _policy:  # `docker start`: a fresh restart count
                self.restarts.on_user_start(c)
            hub = self.hub(c)
            try:
                handle, active_ports = self._launch(c, hub, stdio_fds)
            except Exception as ex:  # nothing was left running: record why, as Docker does
                # Docker's start: 126/127 from the runtime, else 128 unless an
                # earlier run left a code (a stopped one keeps its 137)
                c.exit_code = getattr(ex, "code", None) or c.exit_code or 128
                c.error = getattr(ex, "message", str(ex))
                if c.auto_remove:  # `docker run --rm` waits for the removal: it gets the code
                    self.exit_codes[c.id] = c.exit_code
                    self._remove_stopped(c)
                else:
                    e.store.save_container(c)
                raise
            # the process runs: record it before anything else can fail
            c.handle = handle.to_dict()
            c.active_ports = active_ports
            c.pid = handle.pid
            c.status = "running"
            c.exit_code = 0
            c.error = ""
            c.oom_killed = c.paused = False
            c.started_at = now()
            c.finished_at = "0001-01-01T00:00:00Z"
            self.exit_codes.pop(c.id, None)
            if stdio_fds and len(stdio_fds) == 3 and not c.tty:
                hub.subscribe(FdSink(stdio_fds[1], stdio_fds[2]))
            if handle.pty_master is not None and _pty_out is not None:  # `minidocker run -it` holds it
                _pty_out.append(handle.pty_master)
                hub.begin(handle.pty_master, copy_output=False)
            else:
                hub.begin(handle.pty_master)
            self._watch(c.id, handle)  # from here on, an exit is always noticed
            self.health.started(c)
            try:
                e.store.save_container(c)
                faults.point("start.running")
                if c.active_ports:
                    e.sync_firewall()
                    faults.point("start.firewall")
            except Exception:
                process.kill(handle, signals.SIGKILL)  # its watcher's finalize releases everything
                deadline = time.monotonic() + 10
                while c.status == "running" and time.monotonic() < deadline:
                    e.changed.wait(timeout=0.5)  # (releases the lock to the watcher)
                raise
            e.events.emit("container", "start", c.id, container_attributes(c))
            return c

    def start_if_stopped(self, ref: str, stdio_fds=None) -> bool:
        """Start; False when it was running already (Docker's 304)."""
        with self.e.lock:
            if self.e.find_container(ref).status == "running":
                return False
            self.start(ref, stdio_fds)
            return True

    def attach_target(self, ref: str, logs: bool = False):
        """(tty, stdio hub, the log's records when ``logs``) for an attach; the
        stream follows the current run, or the next one of a stopped container."""
        from minidocker.engine import queries
        with self.e.lock:
            c = self.e.find_container(ref)
            hub = self.hub(c)
        records = queries.logs(self.e, c.id)[1] if logs else None
        return c.tty, hub, records

    def resize(self, ref: str, h: int, w: int) -> None:
        with self.e.lock:
            c = self.e.find_container(ref)
            if c.status != "running":
                raise Conflict(f"Container {c.id} is not running")
            hub = self.hub(c)
        hub.resize(h, w)

    def _launch(self, c: Container, hub: StreamHub, stdio_fds):
        """Ports, sandbox, stdio, process: each undone if a later one fails."""
        e = self.e
        img = e.images.get_by_id(c.image_id)  # the image it was made from, even if re-tagged
        netmode.settle_pending(e, c)  # what create could not settle (Docker's start errors)
        with contextlib.ExitStack() as undo:
            e.net.attach_addresses(c)  # the lowest free ones again (or its --ip), as Docker's
            undo.callback(e.net.release_addresses, c, list(c.endpoints))
            faults.point("start.ipam")
            # as Docker's: ports go through the gateway endpoint; internal networks have none
            if port_binding.only_internal(c, e.networks):
                active_ports, holder = {}, port_binding.Holder()
            else:
                active_ports, holder = port_binding.bind(c, e.containers.values(), e.port_last)
            undo.callback(holder.close)
            faults.point("start.ports")
            # before plumbing: a crash leaves what reconcile can sweep (write-ahead: no fsync)
            e.store.save_container(c, durable=False)
            faults.point("start.state")
            sandbox = self.sandbox.begin(c)  # its namespace and /etc files: what the process needs
            undo.callback(sandbox.abort)
            procs = resources.create_cgroup(e, c)  # the process joins it before it execs
            undo.callback(resources.remove_cgroup, e, c.id)
            fds = hub.child_fds(stdio_fds[0] if stdio_fds and len(stdio_fds) == 3 and c.open_stdin else None)
            undo.callback(hub.abort)
            extra = launch_options.for_run(c, e.store.bundle(c.id), img["Rootfs"])
            spec = process.ContainerSpec(
                id=c.id, image_rootfs=img["Rootfs"], bundle_dir=e.store.bundle(c.id),
                netns=sandbox.path, hostname=c.hostname, argv=extra.pop("argv", c.argv), env=c.env,
                cwd=c.workdir or "/", tty=c.tty, stdin_open=c.open_stdin, stdio_fds=fds,
                log_path=os.path.join(e.store.bundle(c.id), "container.log"), etc_files=self._etc_files(c),
                mounts=volume_verbs.launch_mounts(e, c, img.get("Lowers") or [img["Rootfs"]]),
                readonly_rootfs=c.readonly_rootfs, lower_dirs=img.get("Lowers") or [], cgroup_procs=procs,
                run_dir=e.run_dir, **extra)
            starting = process.Starting(spec)  # the init is made meanwhile, held: it runs nothing yet
            undo.callback(starting.abort)
            sandbox.finish()  # the networks and the resolver
            handle = starting.handle()  # ready, not yet running the command
            faults.point("start.process")
            c.handle = handle.to_dict()  # recorded before it runs: a crash cannot lose it
            e.store.save_container(c, durable=False)  # write-ahead: no fsync (store.py)
            faults.point("start.handle")
            process.go(handle)
            faults.point("start.exec")
            undo.pop_all()
        holder.serve_ipv6(active_ports, c.eps()[0].ip if c.eps() else "")
        e.port_holders[c.id] = holder
        return handle, active_ports

    def _etc_files(self, c: Container) -> dict:
        """A joined container sees the /etc files of the container it joined."""
        bundle = self.e.store.bundle(c.etc_owner())
        return {name: os.path.join(bundle, name) for name in ("hostname", "hosts", "resolv.conf")}

    def _watch(self, cid: str, handle) -> None:
        t = threading.Thread(target=self._await_exit, args=(cid, handle), name=f"watch-{cid[:12]}", daemon=True)
        self.e.watchers[cid] = t
        t.start()

    def _await_exit(self, cid: str, handle) -> None:
        process.exec_d(handle)  # a start's init: the socket it exec'd through, closed
        try:
            code = process.wait(handle)
        except Exception as ex:  # noqa: BLE001 - the shim died without a status: report a kill
            log.debug("container %s: no exit status (%s); reporting a kill", cid[:12], ex)
            while process.is_running(handle):
                time.sleep(0.5)
            code = 137
        self.finalize(cid, code)

    def _explain_exit_to_caller(self, cid: str) -> None:
        """`stop`/`rm -f`: the exit is handled on the watcher's thread; let it
        explain its kernel steps to the request that caused it."""
        rec = explain.current()
        if rec is not None:
            self.exit_explainers[cid] = rec

    def finalize(self, cid: str, code: int) -> None:
        """The container's init is gone: release its namespace and wake waiters."""
        with explain.attached(self.exit_explainers.pop(cid, None)):
            self._finalize(cid, code)

    def _finalize(self, cid: str, code: int) -> None:
        e = self.e
        with e.lock:
            e.watchers.pop(cid, None)
            c = e.containers.get(cid)
            if c is None or c.status != "running" or (e.closed and not self.tearing_down):
                return
            self.health.stopped(cid)
            c.status = "exited"
            c.exit_code = code
            c.finished_at = now()
            c.pid = 0
            c.oom_killed, c.paused = resources.oom_killed(e, cid), False
            self.exit_codes[cid] = code
            self.exits[cid] = self.exits.get(cid, 0) + 1
            e.events.emit("container", "die", cid, container_attributes(c, exitCode=code))
            hub = self.hubs.get(cid)
            if hub is not None:  # a run whose output nobody copies ends here
                threading.Thread(target=hub.process_exited, name="io-end", daemon=True).start()
            while len(self.exit_codes) > 1024:  # kept for late waiters of --rm containers
                self.exit_codes.pop(next(iter(self.exit_codes)))
            had_ports, c.active_ports = bool(c.active_ports), []
            holder = e.port_holders.pop(cid, None)
            if holder is not None:
                holder.close()
            later: list = []  # the links' deletes, waited for below: the rest runs meanwhile
            steps = [lambda: self.sandbox.teardown(c, later), lambda: faults.point("stop.teardown"),
                     lambda: e.net.release_addresses(c), lambda: resources.remove_cgroup(e, cid),
                     lambda: self.restarts.after_exit(c, code), lambda: e.store.save_container(c),
                     lambda: faults.point("stop.state")]
            if had_ports:
                steps.append(e.sync_firewall)
            if c.auto_remove:
                steps.append(lambda: self._remove_stopped(c))
                steps.append(lambda: volume_verbs.remove_anonymous(e, c))  # as `docker run --rm`
            steps.append(lambda: finish_later(later))
            try:
                for step in steps:  # each runs whatever the others did
                    try:
                        step()
                    except Exception:  # noqa: BLE001
                        log.exception("container %s: cleaning up after its exit", cid[:12])
            finally:
                e.changed.notify_all()

    def restart(self, ref: str, timeout: int | None = None) -> Container:
        """Stop (if running), then start again, as `docker restart`."""
        self.stop(ref, timeout)
        c = self.start(ref)
        self.e.events.emit("container", "restart", c.id, container_attributes(c))
        return c

    # ---- remove ---------------------------------------------------------------
    def remove(self, ref: str, force: bool = False) -> Container:
        e = self.e
        with e.lock:
            c = e.find_container(ref)
            if c.paused and not force:
                raise Conflict(f"You cannot remove a paused container {c.id}. "
                               "Unpause and then stop the container before attempting removal or force remove")
            if not force:
                restart_policy.remove_check(c)
            self.restarts.cancel(c)
            if c.status == "running":
                if not force:
                    raise Conflict(f"You cannot remove a running container {c.id}. "
                                   "Stop the container before attempting removal or force remove")
                self._explain_exit_to_caller(c.id)
                pause.signal(e, c, signals.SIGKILL)
                cid = c.id
                handle = process.Handle.from_dict(c.handle)
                gone_since = None
                while cid in e.containers and e.containers[cid].status == "running":
                    e.changed.wait(timeout=0.5)
                    if process.is_running(handle):
                        continue
                    gone_since = gone_since or time.monotonic()
                    if time.monotonic() - gone_since > 2:  # its watcher is gone: finish here
                        self.finalize(cid, 137)
                c = e.containers.get(cid)
                if c is None:
                    return Container(id=cid, name=ref, created="", image="", image_id="", argv=[])
            self._remove_stopped(c)
            return c

    def _remove_stopped(self, c: Container) -> None:
        e = self.e
        _kill_leftover(c)
        faults.point("rm.teardown")
        hub = self.hubs.pop(c.id, None)
        if hub is not None:
            hub.close()
        self.restarts.forget(c.id)
        self.execs.forget_container(c.id)
        e.changed.notify_all()
        for ep in c.eps():
            e.dns_table.remove_endpoint(ep.network_id, c.id)
        e.net.held.give_back_all(c)
        c.endpoints.clear()
        e.containers.pop(c.id, None)
        bundle = e.store.bundle(c.id)
        try:
            e.store.delete_container(c.id)  # gone from state first
            faults.point("rm.state")
            process.cleanup(bundle)
            faults.point("rm.bundle")
        finally:
            shutil.rmtree(bundle, ignore_errors=True)
            e.events.emit("container", "destroy", c.id, container_attributes(c))

    # ---- exec (exec_verbs.py) ----------------------------------------------------
    def exec(self, ref: str, argv: list, env: list, cwd: str, tty: bool, stdio_fds, on_pty=None) -> int:
        return self.execs.run(ref, argv, env, cwd, tty, stdio_fds, on_pty=on_pty)


    # ---- restart reconciliation ---------------------------------------------------
    def reconcile(self) -> None:
        """After a daemon (re)start: adopt live containers, release dead ones."""
        from minidocker.engine.reconcile import reconcile
        reconcile(self)



def _kill_leftover(c: Container) -> None:
    """A container that is not running has no process; one a crash left (started,
    never recorded as running) goes now, so it can never run twice."""
    if not c.handle:
        return
    handle = process.Handle.from_dict(c.handle)
    if process.is_running(handle):
        log.warning("container %s: killing a process left by an interrupted start", c.id[:12])
        process.kill(handle, signals.SIGKILL)
        process.pids.wait_gone(handle.pid, handle.start_time, 10)

