"""Noticing that someone changed our table: a fingerprint of its content, and a
netlink subscription to nftables' change events.

``fingerprint()`` hashes what ``nft -j list table inet minidocker`` says, with
the kernel's handles left out (they change on every re-apply, the rules do not):
the daemon keeps the fingerprint of the table it applied and compares. Flushed
chains, deleted or added rules, a deleted table all change it.

``Monitor`` is a NETLINK_NETFILTER socket in the NFNLGRP_NFTABLES group: the
kernel sends it a message for every nftables change in the network namespace
(ours included), so the daemon looks at once instead of on a timer.
"""
from __future__ import annotations

import hashlib
import json
import socket

from minidocker.readiness import readable
from minidocker.firewall import libnft

NETLINK_NETFILTER = 12
NFNLGRP_NFTABLES = 7


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k != "handle"}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def fingerprint(table: str) -> str | None:
    """A stable digest of ``table``'s chains and rules; None when it does not exist."""
    items = libnft.list_json(f"table {table}")
    if items is None:
        return None
    content = [_strip(i) for i in items if "metainfo" not in i]
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class Monitor:
    """nftables change events of this network namespace (created in it)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((0, 1 << (NFNLGRP_NFTABLES - 1)))
        self.sock.setblocking(False)

    def wait(self, timeout: float) -> bool:
        """True when a change came within ``timeout`` (the events queued are drained:
        one look covers them all)."""
        ready = readable([self.sock], timeout)
        if not ready:
            return False
        while True:
            try:
                self.sock.recv(1 << 16)
            except BlockingIOError:
                return True
            except OSError:  # ENOBUFS: events were lost; a look covers them too
                continue

    def close(self) -> None:
        self.sock.close()


def ip_forward_off() -> bool:
    """net.ipv4.ip_forward turned off (by someone: apply turns it on when needed)."""
    from minidocker.network import sysctl
    return sysctl.read("net.ipv4.ip_forward") == "0"
