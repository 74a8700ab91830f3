"""Two steps overlapped: --explain lines in the order written, errors raised."""
import threading

import pytest

from minidocker import explain
from minidocker.engine.background import Background, alongside


def test_the_background_steps_lines_come_first_whichever_finishes_first():
    gate = threading.Event()

    def slow():
        gate.wait(5)
        explain.emit("ip", "link", "add", "br0")

    def fast():
        explain.emit("nft", "-f", "-")
        gate.set()
        return 7

    with explain.recording() as lines:
        assert alongside(Background(slow), fast) == 7
    assert lines == ["ip link add br0", "nft -f -"]


def test_nothing_is_recorded_without_a_recorder():
    step = Background(explain.emit, "ip", "link")
    alongside(step, explain.emit, "nft")
    assert step.lines == []


def test_the_background_steps_error_is_raised_after_the_foreground_step_ran():
    ran = []

    def boom():
        raise RuntimeError("bridge")

    step = Background(boom)
    with pytest.raises(RuntimeError, match="bridge"):
        alongside(step, ran.append, 1)
    assert ran == [1]
    assert not step.succeeded()


def test_a_foreground_error_waits_for_the_background_step():
    done = []

    def bg():
        done.append(1)

    step = Background(bg)
    with pytest.raises(ZeroDivisionError):
        alongside(step, lambda: 1 / 0)
    assert done == [1] and step.succeeded()
