"""Typed errors. Each class maps to an HTTP status and a CLI exit code.

Messages follow Docker's wording where Docker has one; the CLI prints
"Error response from daemon: <message>" as docker does.
"""


class MinidockerError(Exception):
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(MinidockerError):
    status = 400


class NotFound(MinidockerError):
    status = 404


class Conflict(MinidockerError):
    status = 409


class Exhausted(MinidockerError):
    """No address or pool left."""
    status = 503


class KernelError(MinidockerError):
    """A kernel operation failed (netlink, mount, nft...)."""
    status = 500


_BY_STATUS = {c.status: c for c in (InvalidArgument, NotFound, Conflict, Exhausted, KernelError)}


def from_status(status: int, message: str) -> MinidockerError:
    return _BY_STATUS.get(status, MinidockerError)(message)
