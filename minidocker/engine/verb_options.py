"""Container settings of issue 11's verbs, kept on the Container and shown by
inspect: Config.User, Config.Healthcheck, Config.StopSignal and StopTimeout,
HostConfig.Init; and what `stop` does with them (the signal, then the grace
period before SIGKILL: the request's ``t``, else StopTimeout, else 10s)."""
import signal as signals

from minidocker.errors import InvalidArgument

DEFAULT_STOP_TIMEOUT = 10


def parse_signal(sig) -> int:
    """Docker's signal.ParseSignal: a number (any but 0), or a name with or
    without SIG, in any case."""
    text = str(sig)
    if text.isdigit():
        n = int(text)
        if n == 0:
            raise InvalidArgument(f"Invalid signal: {sig}")
        return n
    name = text.upper()
    try:
        return int(signals.Signals[name if name.startswith("SIG") else "SIG" + name])
    except KeyError:
        raise InvalidArgument(f"Invalid signal: {sig}") from None


def check_stop_signal(sig: str) -> None:
    parse_signal(sig)


def apply(c, cfg: dict) -> None:
    """The create body's settings onto a new Container."""
    c.user = cfg.get("User") or ""
    c.healthcheck = cfg.get("Healthcheck")
    c.stop_signal = cfg.get("StopSignal") or ""
    c.stop_timeout = cfg.get("StopTimeout")
    c.init = cfg.get("Init")


def stop_signal(c) -> int:
    try:
        return parse_signal(c.stop_signal) if c.stop_signal else int(signals.SIGTERM)
    except InvalidArgument:
        return int(signals.SIGTERM)


def stop_timeout(c, requested: int | None) -> int | None:
    """Seconds before SIGKILL; None (a negative value, as Docker's): wait for ever."""
    if requested is None:
        requested = c.stop_timeout if c.stop_timeout is not None else DEFAULT_STOP_TIMEOUT
    return None if requested < 0 else requested

