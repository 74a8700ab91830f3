"""The hot command lines without click: `run`, `exec`, `network connect/disconnect/
create/rm`, `rm` and `ps`, in their common forms, straight to the daemon over cli/wire.py.

Loading click and the command tree costs about 35 ms, several times what the daemon
needs for `network connect` or `exec`. The command lines this module knows
(`plan_*`: argv -> the same request bodies the click commands build, checked by
tests/unit/test_cli_fastpath.py) are sent from here; every other one, and any
doubt, raises Fallback and the full CLI (cli/main.py) takes the command line from
the start. That is safe only while nothing has happened, so a plan falls back
  - before its first request (an unknown flag, --help, a value it does not check),
  - or after a request the daemon refused, when that request changes nothing on
    failure (create, connect, disconnect, network create/rm, rm of one name): the
    full CLI then sends it again and words the error exactly as Docker does.
Errors after something has happened (a failed start, a failed wait) are worded
here, as run_command.py and container_commands.py word them.

MINIDOCKER_FAST=0 turns the fast path off.
"""
import posix
import sys

from minidocker.cli import wire


class Fallback(Exception):
    """The full CLI must take this command line (nothing has been done)."""


FLAG, VALUE, MULTI = "flag", "value", "multi"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def parse(argv: list, spec: dict) -> tuple[dict, list]:
    """click's parsing of the options before the first argument (run and exec stop
    there; what follows is the command). ``spec``: option -> (dest, kind). Raises
    Fallback for anything else (unknown or misused options, ``--``, ``--help``)."""
    opts: dict = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            dest, kind = _option(spec, name)
            if kind == FLAG:
                if eq:
                    raise Fallback(arg)
                opts[dest] = True
            else:
                if not eq:
                    i += 1
                    value = _value(argv, i)
                _store(opts, dest, kind, value)
        else:  # -d, -di, -e VALUE, -eVALUE
            j = 1
            while j < len(arg):
                dest, kind = _option(spec, "-" + arg[j])
                if kind == FLAG:
                    opts[dest] = True
                    j += 1
                    continue
                value = arg[j + 1:]
                if not value:
                    i += 1
                    value = _value(argv, i)
                _store(opts, dest, kind, value)
                break
        i += 1
    return opts, argv[i:]


def _option(spec: dict, name: str):
    if name not in spec:
        raise Fallback(name)
    return spec[name]


def _value(argv: list, i: int) -> str:
    if i >= len(argv):
        raise Fallback("an option without its value")
    return argv[i]


def _store(opts: dict, dest: str, kind: str, value: str) -> None:
    if kind == MULTI:
        opts.setdefault(dest, []).append(value)
    else:
        opts[dest] = value


def plain_name(text: str) -> str:
    """A container or network reference used in a path: only the characters Docker's
    names have (nothing to quote); anything else goes the full CLI's way."""
    if not text or not set(text) <= _NAME_CHARS:
        raise Fallback(text)
    return text


def env_items(values: list) -> list:
    """-e as env_list makes it: K=V kept, K taken from our environment or left out."""
    out = []
    for text in values:
        key = text.split("=", 1)[0]
        if not key:
            raise Fallback(text)  # the full CLI's "invalid environment variable"
        if "=" in text:
            out.append(text)
        elif (value := wire.env(key)) is not None:
            out.append(f"{key}={value}")
    return out


def simple_image(text: str) -> str:
    """Image references of lowercase components (busybox, library/busybox:1.36, a full
    id), a subset of what validation.image_reference accepts as it is; others (a
    registry, a digest, an error to word) go the full CLI's way."""
    name, colon, tag = text.partition(":")
    if colon and (not tag or len(tag) > 128 or not set(tag) <= _NAME_CHARS or tag[0] in ".-"):
        raise Fallback(text)
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or parts[0] == "localhost"):
        raise Fallback(text)
    for part in parts:
        for segment in part.replace("_", ".").replace("-", ".").split("."):
            if not segment or not (segment.isascii() and segment.isalnum() and segment == segment.lower()):
                raise Fallback(text)
    return text


# ---- plans: argv -> requests (pure; compared with the click commands in tests) ---------

RUN_SPEC = {"-d": ("detach", FLAG), "--detach": ("detach", FLAG),
            "-i": ("interactive", FLAG), "--interactive": ("interactive", FLAG),
            "--rm": ("auto_remove", FLAG), "--name": ("name", VALUE),
            "--network": ("network", VALUE), "--net": ("network", VALUE), "--ip": ("ip", VALUE),
            "--network-alias": ("aliases", MULTI), "--net-alias": ("aliases", MULTI),
            "-e": ("env", MULTI), "--env": ("env", MULTI)}


def plan_run(argv: list) -> dict:
    """`run` -> {"name", "body", "detach", "interactive"}: the create request."""
    opts, rest = parse(argv, RUN_SPEC)
    if not rest:
        raise Fallback("no image")
    image, command = simple_image(rest[0]), rest[1:]
    network = opts.get("network", "default")
    aliases = opts.get("aliases", [])
    if aliases and (network in ("host", "none", "bridge") or network.startswith("container:")):
        raise Fallback("aliases")
    name = opts.get("name", "")
    if name:
        plain_name(name)
    detach, interactive, ip = opts.get("detach", False), opts.get("interactive", False), opts.get("ip", "")
    endpoint = {}
    if ip or aliases:
        endpoint = {network: {"IPAMConfig": {"IPv4Address": ip} if ip else None, "Aliases": aliases}}
    body = {"Image": image, "Cmd": command or None, "Env": env_items(opts.get("env", [])), "WorkingDir": "",
            "Hostname": None, "Tty": False, "OpenStdin": interactive, "StdinOnce": interactive and not detach,
            "AttachStdin": interactive and not detach, "AttachStdout": not detach, "AttachStderr": not detach,
            "MacAddress": "", "ExposedPorts": {}, "Labels": {},
            "HostConfig": {"NetworkMode": network, "AutoRemove": opts.get("auto_remove", False), "Dns": [],
                           "DnsSearch": [], "DnsOptions": [], "ExtraHosts": [], "PortBindings": {},
                           "PublishAllPorts": False, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                           "Binds": None, "ReadonlyRootfs": False},
            "NetworkingConfig": {"EndpointsConfig": endpoint}}
    return {"name": name, "body": body, "detach": detach, "interactive": interactive}


EXEC_SPEC = {"-d": ("detach", FLAG), "--detach": ("detach", FLAG),
             "-i": ("interactive", FLAG), "--interactive": ("interactive", FLAG),
             "-e": ("env", MULTI), "--env": ("env", MULTI), "-w": ("workdir", VALUE), "--workdir": ("workdir", VALUE),
             "-u": ("user", VALUE), "--user": ("user", VALUE)}


def plan_exec(argv: list) -> dict:
    """`exec` -> {"container", "body", "detach", "interactive"}: the exec create request."""
    opts, rest = parse(argv, EXEC_SPEC)
    if len(rest) < 2:
        raise Fallback("exec needs a container and a command")
    detach, interactive = opts.get("detach", False), opts.get("interactive", False)
    body = {"Cmd": rest[1:], "Env": env_items(opts.get("env", [])), "WorkingDir": opts.get("workdir", ""),
            "Tty": False, "User": opts.get("user", ""), "AttachStdin": interactive and not detach,
            "AttachStdout": not detach, "AttachStderr": not detach}
    return {"container": plain_name(rest[0]), "body": body, "detach": detach, "interactive": interactive}


def _two_names(rest: list) -> tuple[str, str]:
    if len(rest) != 2:
        raise Fallback("two names")
    return plain_name(rest[0]), plain_name(rest[1])


def plan_network(argv: list) -> tuple[str, str, dict | None, str]:
    """`network connect|disconnect|create|rm` -> (method, path, body, what to print:
    "" nothing, "id" the answer's Id, or the name)."""
    if not argv:
        raise Fallback("network")
    verb, args = argv[0], argv[1:]
    if verb == "connect":
        opts, rest = parse(args, {"--ip": ("ip", VALUE), "--alias": ("alias", MULTI)})
        net, ctr = _two_names(rest)
        ip = opts.get("ip", "")
        body = {"Container": ctr,
                "EndpointConfig": {"IPAMConfig": {"IPv4Address": ip} if ip else {}, "Aliases": opts.get("alias", [])}}
        return "POST", f"/networks/{net}/connect", body, ""
    if verb == "disconnect":
        opts, rest = parse(args, {"-f": ("force", FLAG), "--force": ("force", FLAG)})
        net, ctr = _two_names(rest)
        return "POST", f"/networks/{net}/disconnect", {"Container": ctr, "Force": opts.get("force", False)}, ""
    if verb == "create":
        opts, rest = parse(args, {"--subnet": ("subnet", MULTI), "--gateway": ("gateway", MULTI)})
        subnet, gateway = opts.get("subnet", []), opts.get("gateway", [])
        if len(rest) != 1 or len(subnet) > 1 or len(gateway) > len(subnet):
            raise Fallback("network create")
        config = [{"Subnet": subnet[0], **({"Gateway": gateway[0]} if gateway else {})}] if subnet else []
        body = {"Name": rest[0], "Driver": "bridge", "Internal": False, "Attachable": False, "EnableIPv6": False,
                "IPAM": {"Driver": "default", "Config": config, "Options": {}}, "Labels": {}, "Options": {},
                "CheckDuplicate": True}
        return "POST", "/networks/create", body, "id"
    if verb == "rm" and len(args) == 1:
        return "DELETE", f"/networks/{plain_name(args[0])}", None, args[0]
    raise Fallback("network " + verb)


def plan_rm(argv: list) -> tuple[str, str]:
    """`rm [-f] [-v] NAME` (one name) -> (path with query, the name to print)."""
    opts, rest = parse(argv, {"-f": ("force", FLAG), "--force": ("force", FLAG),
                              "-v": ("volumes", FLAG), "--volumes": ("volumes", FLAG)})
    if len(rest) != 1:
        raise Fallback("rm of several names")
    query = "&".join(q for q, on in (("force=1", opts.get("force")), ("v=1", opts.get("volumes"))) if on)
    return f"/containers/{plain_name(rest[0])}" + ("?" + query if query else ""), rest[0]


PS_SPEC = {"-a": ("all", FLAG), "--all": ("all", FLAG), "-q": ("quiet", FLAG), "--quiet": ("quiet", FLAG),
           "--no-trunc": ("no_trunc", FLAG)}
PS_COLUMNS = ("ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names")  # list_rows.PS_TABLE's


def plan_ps(argv: list) -> tuple[str, bool, bool]:
    """`ps [-a] [-q] [--no-trunc]` -> (path, quiet, trunc); --format and --filter go
    the full CLI's way (the template engine)."""
    opts, rest = parse(argv, PS_SPEC)
    if rest:
        raise Fallback("ps takes no arguments")
    return "/containers/json" + ("?all=1" if opts.get("all") else ""), opts.get("quiet", False), \
        not opts.get("no_trunc", False)


# ---- doing them ---------------------------------------------------------------------------

def _say(stream, text: str) -> None:
    stream.write(text)
    stream.flush()


def _atomic(method: str, path: str, body=None, ok=(200, 201, 204)) -> wire.Answer:
    """A request that changes nothing when it fails: any failure goes the full CLI's way."""
    try:
        answer = wire.request(method, path, body)
    except wire.WireError as ex:
        raise Fallback(str(ex)) from None
    if answer.status not in ok:
        raise Fallback(f"HTTP {answer.status}")
    return answer


def _after(method: str, path: str, body=None, fds=()) -> wire.Answer:
    """A request after something has happened: a broken connection is the full
    client's APIError(0, ...) text, never a fallback."""
    try:
        return wire.request(method, path, body, fds=fds)
    except wire.WireError as ex:
        return wire.Answer(0, wire.dumps({"message": f"error during connect: the minidocker daemon closed the "
                                                     f"connection ({ex})"}).encode())


def do_run(plan: dict) -> int:
    path = "/containers/create" + (f"?name={plan['name']}" if plan["name"] else "")
    cid = _atomic("POST", path, plan["body"], ok=(201,)).json()["Id"]
    if plan["detach"]:  # the docker CLI prints the id before it starts the container
        _say(sys.stdout, cid + "\n")
        return _start_error(_after("POST", f"/containers/{cid}/start", {}))
    devnull = posix.open("/dev/null", posix.O_RDONLY)
    try:
        started = _after("POST", f"/containers/{cid}/start", {}, fds=[0 if plan["interactive"] else devnull, 1, 2])
    finally:
        posix.close(devnull)
    failed = _start_error(started)
    if failed:
        return failed
    _forward_signals(cid)
    waited = _after("POST", f"/containers/{cid}/wait", {})
    if waited.status != 200:  # run_command.wait_error
        _say(sys.stderr, f"Error response from daemon: {waited.message}\n")
        return 125
    return waited.json()["StatusCode"]


def _start_error(answer: wire.Answer) -> int:
    """run_command.run_start_error: 0 when the start went through."""
    if answer.status < 400 and answer.status != 0:
        return 0
    data = answer.json() or {}
    _say(sys.stderr, f"minidocker: Error response from daemon: {answer.message.removesuffix('.')}.\n")
    return data.get("ExitCode", 125) if answer.status else 125


def _forward_signals(cid: str) -> None:
    import _signal

    def forward(signum, _frame):  # as run_command's: the container may be gone already, no matter
        _after("POST", f"/containers/{cid}/kill?signal={signum}", {})
    _signal.signal(_signal.SIGINT, forward)
    _signal.signal(_signal.SIGTERM, forward)


def do_exec(plan: dict) -> int:
    eid = _atomic("POST", f"/containers/{plan['container']}/exec", plan["body"], ok=(201,)).json()["Id"]
    start = f"/exec/{eid}/start"
    if plan["detach"]:
        answer = _after("POST", start, {"Detach": True})
        if answer.status >= 400 or answer.status == 0:  # daemon_fail
            _say(sys.stderr, f"Error response from daemon: {answer.message}\n")
            return 1
        return 0
    devnull = posix.open("/dev/null", posix.O_RDONLY)
    try:
        answer = _after("POST", start, {}, fds=[0 if plan["interactive"] else devnull, 1, 2])
    finally:
        posix.close(devnull)
    data = answer.json() or {}
    if answer.status < 400 and answer.status != 0:
        return data["ExitCode"]
    if data.get("ExitCode"):  # container_commands.exec_error: runc's text on stdout
        _say(sys.stdout, answer.message + "\r\n")
        return data["ExitCode"]
    _say(sys.stderr, (f"Error response from daemon: {answer.message}" if answer.status else answer.message) + "\n")
    return 1


def do_network(plan: tuple) -> int:
    method, path, body, show = plan
    answer = _atomic(method, path, body)
    if show == "id":
        _say(sys.stdout, answer.json()["Id"] + "\n")
    elif show:
        _say(sys.stdout, show + "\n")
    return 0


def do_rm(plan: tuple) -> int:
    path, name = plan
    _atomic("DELETE", path)
    _say(sys.stdout, name + "\n")
    return 0


def do_ps(plan: tuple) -> int:
    """ps's default table, as `out_format(list_rows.PS_TABLE, ...)` prints it."""
    from minidocker.cli import list_rows
    from minidocker.cli.template.tabwriter import tabwrite
    path, quiet, trunc = plan
    rows = [list_rows.ps_row(c, trunc=trunc) for c in _atomic("GET", path).json()]
    if quiet:
        _say(sys.stdout, "".join(r["ID"] + "\n" for r in rows))
        return 0
    header = "\t".join(list_rows.PS_HEADERS["." + k] for k in PS_COLUMNS)
    lines = [header] + ["\t".join(r[k] for k in PS_COLUMNS) for r in rows]
    _say(sys.stdout, tabwrite("".join(line + "\n" for line in lines)))
    return 0


VERBS = {"run": (plan_run, do_run), "exec": (plan_exec, do_exec), "network": (plan_network, do_network),
         "rm": (plan_rm, do_rm), "ps": (plan_ps, do_ps)}


def main(argv: list) -> int | None:
    """The exit code of a command line done here, or None: the full CLI takes it."""
    if not argv or argv[0] not in VERBS or wire.env("MINIDOCKER_FAST", "1") == "0" \
            or wire.env("MINIDOCKER_EXPLAIN") == "1":
        return None
    plan_of, do = VERBS[argv[0]]
    try:
        return do(plan_of(argv[1:]))
    except Fallback:
        return None
