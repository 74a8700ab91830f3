"""Resource verbs: pause, unpause, update, stats, top; and run's resource and
restart flags (`resource_flags`), parsed as the docker 20.10 CLI parses them."""
import functools
import json
import re
import sys
import time

import click

from minidocker.api.client import APIError, q
from minidocker.cli.base import CTX, RUN_CTX, api_errors, cli, daemon_fail, fail, print_daemon_error
from minidocker.cli.completion import container_names
from minidocker.cli.flags import check_flag


def tabwrite(text: str, minwidth: int = 10) -> str:
    from minidocker.cli.template.tabwriter import tabwrite as write  # loaded only to print a table
    return write(text, minwidth=minwidth)

_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: binary multipliers, "64m" -> 67108864."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"invalid size: '{text}'")
    mult = 1024 ** ("kmgtp".index(m.group(2).lower()) + 1) if m.group(2) else 1
    return int(float(m.group(1)) * mult)


def swap_bytes(text: str) -> int:
    return -1 if text == "-1" else ram_in_bytes(text)


def nano_cpus(text: str) -> int:
    from fractions import Fraction
    try:
        return int(Fraction(text) * 1_000_000_000)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"failed to parse {text} as a rational number") from None


def int64(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def restart_policy(text: str) -> dict:
    """The docker CLI's opts.ParseRestartPolicy."""
    if not text:
        return {"Name": "", "MaximumRetryCount": 0}
    parts = text.split(":")
    if len(parts) > 2:
        raise ValueError("invalid restart policy format")
    count = 0
    if len(parts) == 2:
        try:
            count = int(parts[1])
        except ValueError:
            raise ValueError("maximum retry count must be an integer") from None
    return {"Name": parts[0], "MaximumRetryCount": count}


FLAGS = [  # (option names, dest, parser, HostConfig key, help)
    (("-m", "--memory"), "memory", ram_in_bytes, "Memory", "Memory limit"),
    (("--memory-swap",), "memory_swap", swap_bytes, "MemorySwap",
     "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    (("--memory-reservation",), "memory_reservation", ram_in_bytes, "MemoryReservation", "Memory soft limit"),
    (("--cpus",), "cpus", nano_cpus, "NanoCpus", "Number of CPUs"),
    (("-c", "--cpu-shares"), "cpu_shares", int64, "CpuShares", "CPU shares (relative weight)"),
    (("--cpu-period",), "cpu_period", int64, "CpuPeriod", "Limit CPU CFS (Completely Fair Scheduler) period"),
    (("--cpu-quota",), "cpu_quota", int64, "CpuQuota", "Limit CPU CFS (Completely Fair Scheduler) quota"),
    (("--pids-limit",), "pids_limit", int64, "PidsLimit", "Tune container pids limit (set -1 for unlimited)"),
]


def _parse_flags(kw: dict, verb: str) -> dict:
    out = {}
    for names, dest, parse, key, _ in FLAGS:
        v = kw.pop(dest, None)
        if v is not None:
            out[key] = check_flag(parse, v, ", ".join(names), verb)
    return out


def resource_flags(fn):
    """run's -m/--cpus/.../--restart: the wrapped command gets ``resources``, a
    HostConfig fragment (RestartPolicy included)."""
    @functools.wraps(fn)
    def wrapper(*args, **kw):
        res = _parse_flags(kw, "run")
        text = kw.pop("restart", "no")
        try:
            policy = restart_policy(text)
        except ValueError as ex:
            _cli_error(str(ex), "run")
        if kw.get("auto_remove") and policy["Name"] not in ("", "no"):
            _cli_error("Conflicting options: --restart and --rm", "run")
        res["RestartPolicy"] = policy
        return fn(*args, resources=res, **kw)
    for names, dest, _, _, help_text in reversed(FLAGS):
        wrapper = click.option(*names, dest, default=None, help=help_text)(wrapper)
    return click.option("--restart", default="no", help="Restart policy to apply when a container exits")(wrapper)


def _cli_error(message: str, verb: str):
    click.echo(f"minidocker: {message}.\nSee 'minidocker {verb} --help'.", err=True)
    sys.exit(125)


# ---- pause / unpause / update ---------------------------------------------------
def _each(st, refs, path: str, body=None) -> None:
    failed = False
    for ref in refs:
        try:
            st.client().post(path.format(q(ref)), body)
            click.echo(ref)
        except APIError as ex:
            print_daemon_error(ex)
            failed = True
    if failed:
        sys.exit(1)


@cli.command("pause", context_settings=CTX)
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def pause_cmd(st, containers):
    """Pause all processes within one or more containers."""
    _each(st, containers, "/containers/{}/pause")


@cli.command("unpause", context_settings=CTX)
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@click.pass_obj
def unpause_cmd(st, containers):
    """Unpause all processes within one or more containers."""
    _each(st, containers, "/containers/{}/unpause")


def _update_options(fn):
    for names, dest, _, _, help_text in reversed(FLAGS):
        fn = click.option(*names, dest, default=None, help=help_text)(fn)
    return click.option("--restart", default=None, help="Restart policy to apply when a container exits")(fn)


@cli.command("update", context_settings=CTX)
@click.argument("containers", nargs=-1, required=True, shell_complete=container_names)
@_update_options
@click.pass_obj
def update_cmd(st, containers, restart, **kw):
    """Update configuration of one or more containers."""
    body = _parse_flags(kw, "update")
    if restart is not None:
        try:
            body["RestartPolicy"] = restart_policy(restart)
        except ValueError as ex:
            fail(str(ex), 1, prefix=False)
    if not body:
        fail("you must provide one or more flags when using this command", 1, prefix=False)
    _each(st, containers, "/containers/{}/update", body)


# ---- top ----------------------------------------------------------------------------
@cli.command("top", context_settings=RUN_CTX)
@click.argument("container", shell_complete=container_names)
@click.argument("ps_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
@api_errors(daemon_fail)
def top_cmd(st, container, ps_args):
    """Display the running processes of a container."""
    out = st.client().get(f"/containers/{q(container)}/top", query={"ps_args": " ".join(ps_args) or None})
    lines = ["\t".join(out["Titles"])] + ["\t".join(p) for p in out["Processes"]]
    sys.stdout.write(tabwrite("".join(line + "\n" for line in lines), minwidth=20))


# ---- stats ----------------------------------------------------------------------------
def binary_size(size: float) -> str:
    """go-units BytesSize: "%.4g" with KiB, MiB..."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024.0
        i += 1
    return f"{size:.4g}{units[i]}"


def stats_row(s: dict, cid: str, name: str) -> list[str]:
    """One line of `docker stats`, computed as the docker 20.10 CLI does."""
    from minidocker.cli.list_rows import human_size
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [])
    cpu_pct = cpu_delta / sys_delta * online * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = s.get("memory_stats") or {}
    usage, stats = mem.get("usage", 0), mem.get("stats") or {}
    inactive = stats.get("total_inactive_file", stats.get("inactive_file"))
    if inactive is not None and inactive < usage:
        usage -= inactive
    limit = mem.get("limit", 0)
    nets = s.get("networks") or {}
    rx, tx = sum(n.get("rx_bytes", 0) for n in nets.values()), sum(n.get("tx_bytes", 0) for n in nets.values())
    blk = (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    rd = sum(b.get("value", 0) for b in blk if str(b.get("op", "")).lower() == "read")
    wr = sum(b.get("value", 0) for b in blk if str(b.get("op", "")).lower() == "write")
    return [cid[:12], name, f"{cpu_pct:.2f}%", f"{binary_size(usage)} / {binary_size(limit)}",
            f"{usage / limit * 100 if limit else 0.0:.2f}%", f"{human_size(rx)} / {human_size(tx)}",
            f"{human_size(rd)} / {human_size(wr)}", str((s.get("pids_stats") or {}).get("current", 0))]


HEADER = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]


def _table(rows: list[list[str]]) -> str:
    return tabwrite("".join("\t".join(r) + "\n" for r in [HEADER] + rows))


@cli.command("stats", context_settings=CTX)
@click.option("-a", "--all", "show_all", is_flag=True, help="Show all containers (default shows just running)")
@click.option("--no-stream", is_flag=True, help="Disable streaming stats and only pull the first result")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@click.option("--format", "fmt", default="", help="Pretty-print images using a Go template")
@click.argument("containers", nargs=-1, shell_complete=container_names)
@click.pass_obj
def stats_cmd(st, show_all, no_stream, no_trunc, fmt, containers):
    """Display a live stream of container(s) resource usage statistics."""
    client = st.client()
    with api_errors(daemon_fail):
        if containers:
            targets = []
            for ref in containers:
                try:
                    c = client.get(f"/containers/{q(ref)}/json")
                except APIError as ex:
                    fail(ex.message, 1)
                targets.append((c["Id"], c["Name"].lstrip("/")))
        else:
            listed = client.get("/containers/json", query={"all": "1" if show_all else None})
            targets = [(c["Id"], c["Names"][0].lstrip("/")) for c in listed]
    ids = lambda cid: cid if no_trunc else cid[:12]
    if no_stream:
        rows = []
        for cid, name in targets:
            with api_errors(daemon_fail):
                s = client.get(f"/containers/{cid}/stats", query={"stream": "0"})
            rows.append([ids(cid)] + stats_row(s, cid, name)[1:])
        if fmt and not fmt.startswith("table"):
            _formatted(fmt, rows, [ref for ref in containers] or [r[1] for r in rows], targets)
            return
        sys.stdout.write(_table(rows))
        return
    streams = {}
    for cid, name in targets:
        with api_errors(daemon_fail):
            streams[cid] = (name, client.get(f"/containers/{cid}/stats", stream=True))
    latest: dict[str, list[str]] = {cid: [ids(cid), name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0"]
                                     for cid, (name, _) in streams.items()}
    import threading

    def follow(cid, name, resp):
        buf = b""
        for chunk in resp.chunks():
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    latest[cid] = [ids(cid)] + stats_row(json.loads(line), cid, name)[1:]
    for cid, (name, resp) in streams.items():
        threading.Thread(target=follow, args=(cid, name, resp), daemon=True).start()
    try:
        while True:  # as the docker CLI: every 500 ms, clear the screen and print the table
            time.sleep(0.5)
            sys.stdout.write("\033[2J\033[H")
            sys.stdout.write(_table([latest[c] for c in streams]))
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def _formatted(fmt: str, rows: list, given: list, targets: list) -> None:
    """`stats --format`: one line per container, with the docker CLI's fields
    (.Container is the name or id as given)."""
    from minidocker.cli.template.executor import render
    for (cid, _), ref, row in zip(targets, given, rows):
        values = {"Container": ref, "ID": row[0], "Name": row[1], "CPUPerc": row[2], "MemUsage": row[3],
                  "MemPerc": row[4], "NetIO": row[5], "BlockIO": row[6], "PIDs": row[7]}
        click.echo(render(fmt, values))

