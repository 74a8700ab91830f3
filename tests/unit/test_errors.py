"""Typed errors: one home, and teardown reports every failure it met."""
from minidocker import errors


def test_teardown_error_names_every_failure():
    ex = errors.TeardownError([errors.KernelError("delete link mdv1: No such device"), OSError(16, "busy")])
    assert isinstance(ex, errors.MinidockerError) and ex.status == 500 and len(ex.errors) == 2
    assert ex.message == "delete link mdv1: No such device; [Errno 16] busy"


def test_forbidden_is_403():
    assert errors.Forbidden("operation is not permitted").status == 403
