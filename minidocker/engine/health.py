"""Health checks (Docker 20.10's daemon/health.go): while a container with a
Config.Healthcheck runs, a monitor thread runs the probe in it every interval
through the exec machinery (so it shows as exec_create/exec_start/exec_die, as
Docker's probes do) and keeps State.Health: Status starting|healthy|unhealthy,
FailingStreak, and the last 5 results (Start, End, ExitCode, Output: stdout and
stderr together, at most 4096 bytes). A success makes it healthy; a failure
counts (unless it is still starting within the start period) and ``retries``
failures in a row make it unhealthy; each change emits `health_status: S`.
A probe that outlives its timeout is killed and recorded with ExitCode -1.
"""
import logging
import os
import signal
import threading

from minidocker.engine import health_config
from minidocker.engine.events import container_attributes
from minidocker.engine.outputs import parse_rfc3339, rfc3339nano
from minidocker.ids import parse_time

log = logging.getLogger(__name__)

MAX_LOG = 5
MAX_OUTPUT = 4096


def status_word(c) -> str:
    """The `health` filter's word: none, or State.Health.Status."""
    if not c.health or health_config.probe_argv(c.healthcheck) is None:
        return "none"
    return c.health.get("Status", "none")


def ps_suffix(c) -> str:
    """What `ps` adds after "Up 5 seconds" for a container with a health check."""
    if c.status != "running" or not c.health:
        return ""
    st = c.health.get("Status")
    return " (health: starting)" if st == "starting" else f" ({st})"


class _Collect:
    """A sink that keeps a probe's output (both streams)."""

    def __init__(self):
        self.data = bytearray()
        self.ended = threading.Event()

    def write(self, stream: int, data: bytes) -> bool:
        if len(self.data) < MAX_OUTPUT:
            self.data += data[:MAX_OUTPUT - len(self.data)]
        return True

    def end(self) -> None:
        self.ended.set()


class HealthMonitors:
    def __init__(self, engine, execs):
        self.e = engine
        self.execs = execs
        self.stops: dict[str, threading.Event] = {}

    def started(self, c) -> None:
        """The container runs (called with the engine lock held): reset its health
        to starting and begin probing."""
        argv = health_config.probe_argv(c.healthcheck)
        self.stopped(c.id)
        if argv is None:
            return
        h = c.health or {"Status": "starting", "FailingStreak": 0, "Log": []}
        h["Status"], h["FailingStreak"] = "starting", 0
        h.setdefault("Log", [])
        c.health = h
        stop = self.stops[c.id] = threading.Event()
        threading.Thread(target=self._loop, args=(c.id, dict(c.handle), argv, stop),
                         name=f"health-{c.id[:12]}", daemon=True).start()

    def stopped(self, cid: str) -> None:
        ev = self.stops.pop(cid, None)
        if ev is not None:
            ev.set()

    def close(self) -> None:
        for cid in list(self.stops):
            self.stopped(cid)

    def _current(self, cid: str, run: dict):
        c = self.e.containers.get(cid)
        if self.e.closed or c is None or c.status != "running" or c.handle != run:
            return None
        return c

    def _loop(self, cid: str, run: dict, argv: list, stop: threading.Event) -> None:
        with self.e.lock:
            c = self._current(cid, run)
            if c is None:
                return
            interval, timeout, start_period, retries = health_config.settings(c.healthcheck)
        while not stop.wait(interval):
            try:
                result = self._probe(cid, argv, timeout)
            except Exception as ex:  # noqa: BLE001 - the container went away meanwhile
                log.debug("container %s: health probe: %s", cid[:12], ex)
                if stop.is_set():
                    return
                continue
            if stop.is_set():
                return
            with self.e.lock:
                c = self._current(cid, run)
                if c is None:
                    return
                self._record(c, result, start_period, retries)

    def _probe(self, cid: str, argv: list, timeout: float) -> dict:
        start = rfc3339nano()
        eid = self.execs.create(cid, {"Cmd": list(argv), "AttachStdout": True, "AttachStderr": True})
        inst = self.execs.get(eid)
        try:
            return self._run_probe(cid, inst, timeout, start)
        finally:  # as Docker's, a probe is not one of the container's ExecIDs
            with self.e.lock:
                self.execs.instances.pop(eid, None)
                c = self.e.containers.get(cid)
                if c is not None and eid in c.exec_ids:
                    c.exec_ids.remove(eid)

    def _run_probe(self, cid: str, inst, timeout: float, start: str) -> dict:
        sink = _Collect()
        self.execs.start(inst, sink)
        if not sink.ended.wait(timeout):
            if inst.pid:
                try:
                    os.kill(inst.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ns = int(round(timeout * health_config.SECOND))
            return {"Start": start, "End": rfc3339nano(), "ExitCode": -1,
                    "Output": f"Health check exceeded timeout ({health_config.go_duration(ns)})"}
        for _ in range(50):  # the exit code is recorded just before the stream ends
            if inst.exit_code is not None:
                break
            threading.Event().wait(0.01)
        if inst.start_error:  # the probe could not run: Docker's -1 and the runtime's words
            return {"Start": start, "End": rfc3339nano(), "ExitCode": -1, "Output": inst.start_error}
        code = inst.exit_code if inst.exit_code is not None else -1
        return {"Start": start, "End": rfc3339nano(), "ExitCode": code,
                "Output": sink.data.decode("utf-8", "replace")}

    def _record(self, c, result: dict, start_period: float, retries: int) -> None:
        h = c.health
        old = h.get("Status")
        h["Log"] = (h.get("Log") or [])[-(MAX_LOG - 1):] + [result]
        if result["ExitCode"] == 0:
            h["FailingStreak"] = 0
            h["Status"] = "healthy"
        else:
            counts = True
            if old == "starting" and parse_rfc3339(result["Start"]) - parse_time(c.started_at) < start_period:
                counts = False
            if counts:
                h["FailingStreak"] = h.get("FailingStreak", 0) + 1
                if h["FailingStreak"] >= retries:
                    h["Status"] = "unhealthy"
        try:
            self.e.store.save_container(c)
        except OSError as ex:
            log.warning("container %s: saving its health: %s", c.id[:12], ex)
        if h["Status"] != old:
            self.e.events.emit("container", "health_status: " + h["Status"], c.id, container_attributes(c))
        self.e.changed.notify_all()

