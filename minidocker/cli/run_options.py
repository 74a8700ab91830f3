"""`run`'s flags for issue 11's verbs, read as the docker 20.10 CLI reads them
(cli/command/container/opts.go): -u, --init, --stop-signal, --stop-timeout,
--entrypoint, --env-file, --label-file, the --health-* flags and
--no-healthcheck. ``options`` adds them to a click command; ``body`` turns their
values into the create body's Config and HostConfig keys (or exits 125 with the
docker CLI's message)."""
import os
import sys

import click

from minidocker import validation

SECOND = 1_000_000_000
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": SECOND, "m": 60 * SECOND, "h": 3600 * SECOND}
WHITESPACE = " \t\n\v\f\r"

_OPTIONS = [
    click.option("-u", "--user", default=None, help="Username or UID (format: <name|uid>[:<group|gid>])"),
    click.option("--init", "init", is_flag=True, default=None,
                 help="Run an init inside the container that forwards signals and reaps processes"),
    click.option("--stop-signal", default=None, help='Signal to stop a container (default "SIGTERM")'),
    click.option("--stop-timeout", default=None, help="Timeout (in seconds) to stop a container"),
    click.option("--entrypoint", default=None, help="Overwrite the default ENTRYPOINT of the image"),
    click.option("--env-file", "env_files", multiple=True, help="Read in a file of environment variables"),
    click.option("--label-file", "label_files", multiple=True, help="Read in a line delimited file of labels"),
    click.option("--health-cmd", default=None, help="Command to run to check health"),
    click.option("--health-interval", default=None, help="Time between running the check (ms|s|m|h) (default 0s)"),
    click.option("--health-timeout", default=None,
                 help="Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
    click.option("--health-start-period", default=None,
                 help="Start period for the container to initialize before starting health-retries "
                      "countdown (ms|s|m|h) (default 0s)"),
    click.option("--health-retries", default=None, help="Consecutive failures needed to report unhealthy"),
    click.option("--no-healthcheck", is_flag=True, help="Disable any container-specified HEALTHCHECK"),
]


def options(fn):
    for opt in reversed(_OPTIONS):
        fn = opt(fn)
    return fn


def _usage_error(message: str, verb: str) -> None:
    click.echo(f"minidocker: {message.rstrip('.')}.\nSee 'minidocker {verb} --help'.", err=True)
    sys.exit(125)


def _flag_error(value: str, flag: str, message: str, verb: str) -> None:
    click.echo(validation.flag_message(value, flag, message) + f"\nSee 'minidocker {verb} --help'.", err=True)
    sys.exit(125)


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration: "1s", "1m30s", "500ms", "-2s" -> nanoseconds."""
    orig, s = text, text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s[1:] if s[:1] in "+-" else s
    if s == "0":
        return 0
    if not s:
        raise ValueError(f'time: invalid duration "{orig}"')
    total, i = 0.0, 0
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        num, unit = s[i:j], s[j:k]
        if not num or num == ".":
            raise ValueError(f'time: invalid duration "{orig}"')
        if not unit:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(num) * _UNITS[unit]
        i = k
    return sign * int(round(total))


def _parse_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def read_kv_file(path: str, environ=None) -> list[str]:
    """opts.parseKeyValueFile: '#' lines and blank ones skipped; leading blanks
    dropped; "K=V" kept as is; "K" alone takes K's value from ``environ`` (left out
    when unset), or stays "K" without ``environ`` (label files)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ValueError(f"open {path}: no such file or directory") from None
    except IsADirectoryError:
        raise ValueError(f"read {path}: is a directory") from None
    except PermissionError:
        raise ValueError(f"open {path}: permission denied") from None
    out = []
    for n, line_b in enumerate(raw.split(b"\n"), 1):
        line_b = line_b.removesuffix(b"\r")
        try:
            line = line_b.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"env file {path} contains invalid utf8 bytes at line {n}: "
                             f"[{' '.join(str(b) for b in line_b)}]") from None
        if n == 1:
            line = line.removeprefix("\ufeff")
        line = line.lstrip(WHITESPACE)
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        name = name.lstrip(WHITESPACE)
        if any(ch in WHITESPACE for ch in name):
            raise ValueError(f"poorly formatted environment: variable '{name}' contains whitespaces")
        if eq:
            if not name:
                raise ValueError(f"poorly formatted environment: no variable name on line '{line}'")
            out.append(f"{name}={value}")
        elif environ is None:
            out.append(line.strip(WHITESPACE))
        elif line.strip(WHITESPACE) in environ:
            key = line.strip(WHITESPACE)
            out.append(f"{key}={environ[key]}")
    return out


def env_from_files(files, verb: str) -> list[str]:
    out = []
    for path in files:
        try:
            out += read_kv_file(path, os.environ)
        except ValueError as ex:
            _usage_error(str(ex), verb)
    return out


def labels_from_files(files, verb: str) -> list[str]:
    out = []
    for path in files:
        try:
            out += read_kv_file(path)
        except ValueError as ex:
            _usage_error(str(ex), verb)
    return out


def _healthcheck(kw: dict, verb: str) -> dict | None:
    durations = {}
    for key, flag in (("health_interval", "--health-interval"), ("health_timeout", "--health-timeout"),
                      ("health_start_period", "--health-start-period")):
        v = kw.get(key)
        if v is not None:
            try:
                durations[key] = parse_duration(v)
            except ValueError as ex:
                _flag_error(v, flag, str(ex), verb)
    retries = 0
    if kw.get("health_retries") is not None:
        try:
            retries = _parse_int(kw["health_retries"])
        except ValueError as ex:
            _flag_error(kw["health_retries"], "--health-retries", str(ex), verb)
    cmd = kw.get("health_cmd") or ""
    have = bool(cmd) or any(durations.values()) or retries != 0
    if kw.get("no_healthcheck"):
        if have:
            _usage_error("--no-healthcheck conflicts with --health-* options", verb)
        return {"Test": ["NONE"]}
    if not have:
        return None
    for key, flag in (("health_interval", "--health-interval"), ("health_timeout", "--health-timeout")):
        if durations.get(key, 0) < 0:
            _usage_error(f"{flag} cannot be negative", verb)
    if retries < 0:
        _usage_error("--health-retries cannot be negative", verb)
    if durations.get("health_start_period", 0) < 0:
        _usage_error("--health-start-period cannot be negative", verb)
    hc: dict = {}
    if cmd:
        hc["Test"] = ["CMD-SHELL", cmd]
    for key, name in (("health_interval", "Interval"), ("health_timeout", "Timeout"),
                      ("health_start_period", "StartPeriod")):
        if durations.get(key):
            hc[name] = durations[key]
    if retries:
        hc["Retries"] = retries
    return hc


def body(kw: dict, verb: str = "run") -> tuple[dict, dict, list, list]:
    """(Config keys, HostConfig keys, Env from --env-file, labels from --label-file)."""
    config: dict = {}
    host: dict = {}
    if kw.get("user"):
        config["User"] = kw["user"]
    if kw.get("init"):
        host["Init"] = True
    if kw.get("stop_signal"):
        config["StopSignal"] = kw["stop_signal"]
    if kw.get("stop_timeout") is not None:
        try:
            config["StopTimeout"] = _parse_int(kw["stop_timeout"])
        except ValueError as ex:
            _flag_error(kw["stop_timeout"], "--stop-timeout", str(ex), verb)
    if kw.get("entrypoint") is not None:
        config["Entrypoint"] = [kw["entrypoint"]]
    hc = _healthcheck(kw, verb)
    if hc is not None:
        config["Healthcheck"] = hc
    return config, host, env_from_files(kw.get("env_files") or (), verb), \
        labels_from_files(kw.get("label_files") or (), verb)
