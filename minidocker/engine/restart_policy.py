"""Restart policies: no | always | unless-stopped | on-failure[:N].

Docker 20.10's restartmanager: after an exit the container waits in state
"restarting" for a delay that starts at 100 ms and doubles each time (at most
1 minute), back to 100 ms when the run lasted 10 s or more; then it is started
through the normal start path (networks, addresses, ports as at `start`) and
RestartCount goes up. `stop`/`kill` end the loop (manually stopped); `start`
resets the count. When the daemon starts, containers whose policy says so come
back (`always` even after a `stop`, as Docker's documentation says).
"""
import logging
import threading

from minidocker.errors import Conflict, InvalidArgument
from minidocker.ids import now, parse_time

log = logging.getLogger(__name__)

FIRST_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER = 10.0


def check(policy, auto_remove: bool) -> None:
    """Docker's create checks (HostConfig.RestartPolicy, AutoRemove)."""
    if not isinstance(policy, dict):
        return
    name = policy.get("Name") or ""
    count = policy.get("MaximumRetryCount") or 0
    if auto_remove and name not in ("", "no"):
        raise InvalidArgument("can't create 'AutoRemove' container with restart policy")
    if name in ("always", "unless-stopped", "no"):
        if count != 0:
            raise InvalidArgument(f"maximum retry count cannot be used with restart policy '{name}'")
    elif name == "on-failure":
        if count < 0:
            raise InvalidArgument("maximum retry count cannot be negative")
    elif name != "":
        raise InvalidArgument(f"invalid restart policy '{name}'")


def normal(policy) -> dict:
    policy = policy if isinstance(policy, dict) else {}
    return {"Name": policy.get("Name") or "", "MaximumRetryCount": int(policy.get("MaximumRetryCount") or 0)}


def wants_restart(policy: dict, code: int, manually_stopped: bool, restart_count: int) -> bool:
    """restartmanager.ShouldRestart's decision (the delay aside)."""
    name = policy.get("Name") or ""
    if name == "always":
        return True
    if name == "unless-stopped":
        return not manually_stopped
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        return code != 0 and (limit == 0 or restart_count < limit)
    return False


def next_delay(previous: float, ran_for: float) -> float:
    """100 ms, doubling, at most a minute; back to 100 ms after a run of 10 s."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


class Restarts:
    """The pending restarts of one engine (timers and each container's delay)."""

    def __init__(self, verbs):
        self.verbs = verbs
        self.delays: dict[str, float] = {}
        self.timers: dict[str, threading.Timer] = {}

    # called with the engine lock held -----------------------------------------
    def after_exit(self, c, code: int) -> None:
        """The container's run ended (its cleanup done): schedule a restart if its
        policy wants one; it then waits as "restarting"."""
        e = self.verbs.e
        if e.closed or c.auto_remove or c.manually_stopped:
            return
        if not wants_restart(c.restart_policy, code, False, c.restart_count):
            return
        try:
            ran_for = max(0.0, parse_time(c.finished_at) - parse_time(c.started_at))
        except (ValueError, TypeError):
            ran_for = 0.0
        delay = self.delays[c.id] = next_delay(self.delays.get(c.id, 0.0), ran_for)
        c.restart_count += 1
        c.status = "restarting"
        self._schedule(c.id, delay)

    def _schedule(self, cid: str, delay: float) -> None:
        old = self.timers.pop(cid, None)
        if old is not None:
            old.cancel()
        t = threading.Timer(delay, self._fire, args=(cid,))
        t.name, t.daemon = f"restart-{cid[:12]}", True
        self.timers[cid] = t
        t.start()

    def _fire(self, cid: str) -> None:
        e = self.verbs.e
        with e.lock:
            self.timers.pop(cid, None)
            c = e.containers.get(cid)
            if e.closed or c is None or c.status != "restarting":
                return
            try:
                self.verbs.start(cid, _policy=True)
            except Exception as ex:  # noqa: BLE001 - as Docker: the loop ends, the container stays stopped
                log.warning("container %s: restart failed: %s", cid[:12], ex)
                c = e.containers.get(cid)
                if c is not None and c.status == "restarting":
                    c.status = "exited"
                    c.finished_at = now()
                    e.store.save_container(c)
                e.changed.notify_all()

    def cancel(self, c, manual: bool = True) -> bool:
        """`stop`/`kill`/`rm -f` of a restarting container: no restart comes; it
        is "exited" with its last code. True when one was pending."""
        t = self.timers.pop(c.id, None)
        if t is not None:
            t.cancel()
        if manual:
            c.manually_stopped = True
        if c.status != "restarting":
            return False
        c.status = "exited"
        self.verbs.e.store.save_container(c)
        self.verbs.e.changed.notify_all()
        return True

    def forget(self, cid: str) -> None:
        t = self.timers.pop(cid, None)
        if t is not None:
            t.cancel()
        self.delays.pop(cid, None)

    def on_user_start(self, c) -> None:
        """`docker start`: a fresh count, and the policy applies again."""
        self.forget(c.id)
        c.restart_count = 0
        c.manually_stopped = False

    def at_daemon_start(self) -> None:
        """Docker's restore: stopped containers whose policy says so are
        started (always: even after a stop; unless-stopped: unless stopped by
        hand; on-failure: a failure with retries left)."""
        e = self.verbs.e
        for c in list(e.containers.values()):
            if c.status not in ("exited", "restarting") or c.auto_remove:
                continue
            if c.started_at.startswith("0001-"):
                continue  # never started
            if wants_restart(c.restart_policy, c.exit_code, c.manually_stopped, c.restart_count):
                c.status = "restarting"
                self._schedule(c.id, 0.0)


def remove_check(c) -> None:
    if c.status == "restarting":
        raise Conflict(f"You cannot remove a restarting container {c.id}. "
                       "Stop the container before attempting removal or force remove")
