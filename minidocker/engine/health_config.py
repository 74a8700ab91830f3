"""Config.Healthcheck as Docker 20.10 takes it (pure): checked as its JSON decoder
and its create-time validation check it, with the defaults the monitor uses
(interval 30s, timeout 30s, start period 0, 3 retries), the probe's argv, and
Go's time.Duration text for the timeout message."""
from minidocker.errors import DecodeError, InvalidArgument
from minidocker.validation import go_json_kind

SECOND = 1_000_000_000
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_RETRIES = 3
MIN_DURATION = 1_000_000  # 1ms
DURATIONS = ("Interval", "Timeout", "StartPeriod")


def check(hc) -> dict | None:
    """The body's Healthcheck, validated; None when absent."""
    if hc is None:
        return None
    if not isinstance(hc, dict):
        raise DecodeError(f"json: cannot unmarshal {go_json_kind(hc)} into Go struct field "
                          "ContainerConfigWrapper.Healthcheck of type container.HealthConfig")
    test = hc.get("Test")
    if test is not None and not (isinstance(test, list) and all(isinstance(x, str) for x in test)):
        bad = test if not isinstance(test, list) else next(x for x in test if not isinstance(x, str))
        kind = "[]string" if not isinstance(test, list) else "string"
        raise DecodeError(f"json: cannot unmarshal {go_json_kind(bad)} into Go struct field "
                          f"HealthConfig.Healthcheck.Test of type {kind}")
    for key in DURATIONS + ("Retries",):
        v = hc.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            kind = "int" if key == "Retries" else "time.Duration"
            raise DecodeError(f"json: cannot unmarshal {go_json_kind(v)} into Go struct field "
                              f"HealthConfig.Healthcheck.{key} of type {kind}")
    for key in DURATIONS:
        v = hc.get(key) or 0
        if v != 0 and v < MIN_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if (hc.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")
    out = {}
    if test:  # an empty list is left out, as Go's omitempty does
        out["Test"] = list(test)
    for key in DURATIONS + ("Retries",):
        if hc.get(key):
            out[key] = hc[key]
    return out


def probe_argv(hc: dict | None) -> list | None:
    """What the monitor runs, or None: no check (absent, empty, or NONE)."""
    test = (hc or {}).get("Test") or []
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:]) or None
    return None


def settings(hc: dict) -> tuple[float, float, float, int]:
    """(interval, timeout, start period) in seconds and the retries, with defaults."""
    interval = (hc.get("Interval") or DEFAULT_INTERVAL) / SECOND
    timeout = (hc.get("Timeout") or DEFAULT_TIMEOUT) / SECOND
    start = (hc.get("StartPeriod") or 0) / SECOND
    retries = hc.get("Retries") or DEFAULT_RETRIES
    return interval, timeout, start, retries


def go_duration(ns: int) -> str:
    """time.Duration.String(): 1s, 1.5s, 500ms, 1m30s, 1h0m0s."""
    if ns == 0:
        return "0s"
    if ns < SECOND:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return _frac(ns, size) + unit
    h, rest = divmod(ns, 3600 * SECOND)
    m, rest = divmod(rest, 60 * SECOND)
    secs = _frac(rest, SECOND) + "s"
    if h:
        return f"{h}h{m}m{secs}"
    if m:
        return f"{m}m{secs}"
    return secs


def _frac(n: int, size: int) -> str:
    whole, part = divmod(n, size)
    if not part:
        return str(whole)
    digits = len(str(size)) - 1
    return f"{whole}." + f"{part:0{digits}d}".rstrip("0")


def parse_go_duration(text: str) -> int:
    """time.ParseDuration for the CLI's --health-* flags: "1s", "1m30s", "500ms"."""
    units = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": SECOND, "m": 60 * SECOND,
             "h": 3600 * SECOND}
    s = text.strip()
    orig = text
    neg = s.startswith("-")
    s = s.lstrip("+-")
    if s == "0":
        return 0
    if not s:
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0.0
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        if j == i:
            raise ValueError(f'time: invalid duration "{orig}"')
        num = s[i:j]
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        unit = s[j:k]
        if not unit:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in units:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        try:
            total += float(num) * units[unit]
        except ValueError:
            raise ValueError(f'time: invalid duration "{orig}"') from None
        i = k
    return -int(round(total)) if neg else int(round(total))
