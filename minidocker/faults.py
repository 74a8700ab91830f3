"""Fault injection for the test suite: fail, or die, right after a chosen step.

Off unless the tests turn it on: the daemon reads ``MINIDOCKER_FAULT`` once, at
import, and only when it is set (``step[=action[@n]]``, several separated by
commas); an in-process engine is armed with ``arm()``. ``action`` is ``raise``
(the default: an InjectedFault, as if that kernel step had failed) or ``kill``
(SIGKILL of the whole daemon, as a crash there would); ``@n`` fires at the n-th
time the step is passed (1 by default). Each step a verb passes is named in
``STEPS`` so a test can go through all of them.

    faults.point("run.veth")   # after the host-side veth and its peer exist
"""
from __future__ import annotations

import os
import signal
import threading

from minidocker.errors import MinidockerError

# every point, by verb, in the order the verb passes them
STEPS = {
    "run": ["create.state", "start.ipam", "start.ports", "start.state", "sandbox.netns", "join.veth",
            "join.port", "join.addresses", "join.routes", "sandbox.dns", "start.process", "start.handle",
            "start.exec", "start.running", "start.firewall"],
    "network-create": ["network.ipam", "network.bridge", "network.addresses", "network.rules", "network.state"],
    "network-connect": ["connect.ipam", "join.veth", "join.port", "join.addresses", "connect.dns",
                        "connect.state"],
    "exec": ["exec.process"],
    "stop": ["stop.signal", "stop.teardown", "stop.state"],
    "rm": ["rm.teardown", "rm.state", "rm.bundle"],
}


class InjectedFault(MinidockerError):
    """The failure a test asked for, after the step it names."""


_lock = threading.Lock()
_armed: dict[str, list] = {}  # step -> [action, fire at n, times passed]


def arm(step: str, action: str = "raise", nth: int = 1) -> None:
    with _lock:
        _armed[step] = [action, nth, 0]


def disarm() -> None:
    with _lock:
        _armed.clear()


def _parse(text: str) -> None:
    for item in filter(None, (t.strip() for t in text.split(","))):
        step, _, rest = item.partition("=")
        action, _, nth = (rest or "raise").partition("@")
        arm(step, action or "raise", int(nth or 1))


if os.environ.get("MINIDOCKER_FAULT"):
    _parse(os.environ["MINIDOCKER_FAULT"])


def point(step: str) -> None:
    """Passed ``step``: fail or die here if a test asked for it."""
    if not _armed:
        return
    with _lock:
        entry = _armed.get(step)
        if entry is None:
            return
        entry[2] += 1
        if entry[2] != entry[1]:
            return
        action = entry[0]
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFault(f"injected fault after {step}")
