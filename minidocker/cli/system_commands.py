"""`minidocker system check`: drift between the daemon's state and the kernel,
one line per finding, repaired unless --dry-run (the daemon decides and repairs:
engine/system_check.py)."""
import json
import sys

import click

from minidocker.cli.base import CTX, api_errors, cli


@cli.group("system", context_settings=CTX)
def system():
    """Manage minidocker itself."""


@system.command("check", context_settings=CTX)
@click.option("--dry-run", is_flag=True, help="Report the drift only, repair nothing")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON")
@click.pass_obj
@api_errors()
def check(st, dry_run, as_json):
    """Compare the kernel with the daemon's state and repair what drifted.

    Links (bridges, veths), addresses, routes, namespaces, DNS names and the
    firewall's rules: one line per difference found (KIND OBJECT PROBLEM: STATUS).
    Repairs by default; exits 1 when drift remains (always, with --dry-run, if any)."""
    found = st.client().post("/minidocker/system/check", query={"dry_run": "1" if dry_run else "0"})["Findings"]
    if as_json:
        click.echo(json.dumps(found, indent=2))
    elif not found:
        click.echo("no drift: the kernel matches the state")
    for f in found if not as_json else ():
        status = "repaired" if f["Repaired"] else (f"not repaired: {f['Error']}" if f["Error"] else
                                                   "found (dry run)" if dry_run else "not repaired")
        click.echo(f"{f['Kind']}\t{f['Object']}\t{f['Problem']}: {status}")
    sys.exit(1 if any(not f["Repaired"] for f in found) else 0)
