"""minidocker.readiness: select's read half for descriptors of any number."""
import os
import resource

import pytest

from minidocker.readiness import readable


@pytest.fixture
def high_pipe():
    """A pipe whose read end is fd 1500 (select() refuses it: FD_SETSIZE is 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1600:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1600), hard))
    r, w = os.pipe()
    os.dup2(r, 1500)
    os.close(r)
    yield 1500, w
    for fd in (1500, w):
        try:
            os.close(fd)
        except OSError:
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_descriptor_above_fd_setsize_is_watched(high_pipe):
    r, w = high_pipe
    assert readable([r], 0) == []
    os.write(w, b"x")
    assert readable([r, w], 0) == [r]


def test_end_of_file_counts_as_readable_and_objects_come_back_as_given(high_pipe):
    r, w = high_pipe

    class Holder:
        def fileno(self):
            return r
    holder = Holder()
    assert readable([holder], 0.01) == []
    os.close(w)
    assert readable([holder], None) == [holder]
