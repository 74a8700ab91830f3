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


class Forbidden(MinidockerError):
    """Docker answers 403 for operations on pre-defined or busy networks."""
    status = 403


class NotFound(MinidockerError):
    status = 404


class DecodeError(MinidockerError):
    """A body Go's encoding/json would not decode into Docker's types: dockerd
    answers 500 for these on containers/create (its decoder runs late)."""
    status = 500


class Conflict(MinidockerError):
    status = 409


class Exhausted(MinidockerError):
    """No address or pool left."""
    status = 503


class LimitReached(MinidockerError):
    """A limit of the kernel's or of the daemon's (a bridge's ports, open files):
    the message names it."""
    status = 503


class UntypedInvalid(InvalidArgument):
    """Bad input that Docker 20.10 nevertheless answers with 500, because the
    libnetwork error behind it carries no type (`invalid name: `, `Invalid subnet
    ...`): an InvalidArgument to the code, a 500 on the wire, as Docker's."""
    status = 500


class KernelError(MinidockerError):
    """A kernel operation failed (netlink, mount, nft...)."""
    status = 500


class TeardownError(MinidockerError):
    """Teardown keeps going past failures; this reports every one it met."""
    status = 500

    def __init__(self, errors: list):
        self.errors = list(errors)
        super().__init__("; ".join(getattr(e, "message", None) or str(e) or type(e).__name__
                                   for e in self.errors))


class TemplateError(InvalidArgument):
    """A `--format`/`-f` Go template that does not parse (``parse`` True) or fails
    while executing. ``message`` is Go's text; ``cli_message`` adds docker's
    "template parsing error: " prefix."""

    def __init__(self, message: str, parse: bool):
        super().__init__(message)
        self.parse = parse
        self.cli_message = "template parsing error: " + message
        self.client_side = True


# ---- the container runtime ------------------------------------------------

RUN_PREFIX = ("failed to create shim task: OCI runtime create failed: runc create failed: "
              "unable to start container process: ")
EXEC_PREFIX = "OCI runtime exec failed: exec failed: unable to start container process: "


class StartError(MinidockerError):
    """The container process could not be started (nothing was left behind).

    ``code`` is what ``docker run`` exits with (127 not found, 126 cannot
    invoke, 125 other); ``reason`` is runc's own text (``exec: "nosuch":
    executable file not found in $PATH``); ``message`` is Docker's full
    daemon error text, to print after "docker: Error response from daemon: ".
    """
    status = 500

    def __init__(self, code: int, message: str, reason: str | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason if reason is not None else message

    @classmethod
    def for_run(cls, code: int, reason: str) -> "StartError":
        return cls(code, f"{RUN_PREFIX}{reason}: unknown", reason)

    @classmethod
    def for_exec(cls, code: int, reason: str) -> "StartError":
        # docker exec exits 126 for every failure to start the process
        return cls(126, f"{EXEC_PREFIX}{reason}: unknown", reason)
