"""Container verbs that end or await a run: wait (not-running, next-exit,
removed), stop (the container's StopSignal, then SIGKILL after the request's
``t``, else its StopTimeout, else 10s), kill. Mixed into ContainerVerbs."""
import signal as signals
import time

from minidocker import faults
from minidocker.engine import pause, verb_options
from minidocker.engine.events import container_attributes
from minidocker.engine.models import Container
from minidocker.errors import Conflict, InvalidArgument, NotFound
from minidocker.runtime import process


class StopVerbs:
    def waiter(self, ref: str, condition: str = "not-running"):
        """Docker's wait, in two steps so that the answer's head can go out first:
        this checks ``ref`` (NotFound) and returns ``poll(timeout) -> code | None``.
        not-running: now if it is not running; next-exit: the next exit even if it
        is stopped now; removed: once it is gone (also after a failed start of an
        AutoRemove container)."""
        e = self.e
        with e.lock:
            try:
                cid = e.find_container(ref).id
            except NotFound:
                if ref not in self.exit_codes:
                    raise
                cid = ref  # --rm: already gone, its code kept
            seen = self.exits.get(cid, 0)
            hub = self.hubs.get(cid)

        def done():
            c = e.containers.get(cid)
            if condition == "removed":
                return c is None
            if condition == "next-exit":
                return self.exits.get(cid, 0) > seen or c is None
            return c is None or c.status != "running"

        def poll(timeout: float | None = None) -> int | None:
            with e.lock:
                if not done():
                    e.changed.wait(timeout)
                    if not done():
                        return None
                c = e.containers.get(cid)
                code = c.exit_code if c is not None else self.exit_codes.get(cid, 0)
            if hub is not None:  # all of the output reaches attached callers before the exit code
                hub.done.wait(timeout=5)
            return code
        return poll

    def wait(self, ref: str, condition: str = "not-running") -> int:
        poll = self.waiter(ref, condition)
        while True:
            code = poll(1.0)
            if code is not None:
                return code

    def stop_if_running(self, ref: str, timeout: int | None = None) -> bool:
        """Stop; False when it was not running (Docker's 304)."""
        with self.e.lock:
            if self.e.find_container(ref).status != "running":
                return False
        self.stop(ref, timeout)
        return True

    def stop(self, ref: str, timeout: int | None = None) -> Container:
        e = self.e
        with e.lock:
            c = e.find_container(ref)
            self.restarts.cancel(c)  # manually stopped: no policy restart
            if c.status != "running":
                return c
            run = dict(c.handle)  # this run: a restart meanwhile is another one
            handle = process.Handle.from_dict(run)
            self._explain_exit_to_caller(c.id)
            signum = verb_options.stop_signal(c)
            grace = verb_options.stop_timeout(c, timeout)
            if c.paused:  # the signal reaches it once thawed
                pause.signal(e, c, signum)
        e.events.emit("container", "kill", c.id, container_attributes(c, signal=signum))
        process.stop(handle, grace, signum, on_kill=lambda: e.events.emit(  # as Docker: a second kill event
            "container", "kill", c.id, container_attributes(c, signal=int(signals.SIGKILL))))
        faults.point("stop.signal")
        with e.lock:  # until this run's exit has been handled
            while c.id in e.containers and c.status == "running" and c.handle == run:
                e.changed.wait(timeout=1)
            e.events.emit("container", "stop", c.id, container_attributes(c))
        return c

    def kill(self, ref: str, sig: str = "KILL") -> Container:
        e = self.e
        with e.lock:
            try:
                c = e.find_container(ref)
            except NotFound as ex:
                raise NotFound(f"Cannot kill container: {ref}: {ex.message}")
            if self.restarts.cancel(c):  # restarting: no process to signal, the loop ends
                return c
            if c.status != "running":
                raise Conflict(f"Cannot kill container: {ref}: Container {c.id} is not running")
            signum = _signal(sig)
            c.manually_stopped = True
            e.events.emit("container", "kill", c.id, container_attributes(c, signal=signum))
            pause.signal(e, c, signum)
            if signum == signals.SIGKILL:  # as Docker: KILL returns once it is gone
                deadline = time.monotonic() + 10
                while c.status == "running" and c.id in e.containers and time.monotonic() < deadline:
                    e.changed.wait(timeout=0.5)
            return c


def _signal(sig) -> int:
    """A signal number or name (KILL, SIGKILL), as `docker kill -s` takes it."""
    try:
        if isinstance(sig, int) or str(sig).isdigit():
            return int(signals.Signals(int(sig)))
        name = str(sig).upper()
        return int(signals.Signals[name if name.startswith("SIG") else "SIG" + name])
    except (KeyError, ValueError):
        raise InvalidArgument(f"Invalid signal: {sig}") from None
