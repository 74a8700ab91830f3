"""One kernel step on a thread of its own while the request's thread does another.

Two steps that do not depend on each other and mostly wait in the kernel (a
bridge's creation and the firewall's render, say) overlap. The step's --explain
lines are kept apart and given back in the order the steps were written, so a
reader sees what was done as a sequence, whichever thread finished first.
"""
from __future__ import annotations

import threading

from minidocker import explain


class Background:
    def __init__(self, fn, *args, name: str = "step"):
        self._fn, self._args = fn, args
        self._recording = explain.current() is not None
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with explain.attached(self.lines if self._recording else None):
                self._fn(*self._args)
        except BaseException as e:  # noqa: BLE001 - raised by wait()
            self.error = e

    def wait(self) -> None:
        """Block until the step is done; raise what it raised."""
        self._thread.join()
        if self.error is not None:
            raise self.error

    def succeeded(self) -> bool:
        self._thread.join()
        return self.error is None


def alongside(step: Background, fn, *args):
    """Run ``fn`` here while ``step`` runs, wait for both, and record step's
    --explain lines before fn's. ``step``'s error wins (it was written first)."""
    mine: list[str] = []
    rec = explain.current()
    try:
        with explain.attached(mine if rec is not None else None):
            out = fn(*args)
        step.wait()
        return out
    finally:
        step._thread.join()
        if rec is not None:
            rec.extend(step.lines)
            rec.extend(mine)
