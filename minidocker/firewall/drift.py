"""Noticing that someone changed our table: a fingerprint of its content, and a
netlink subscription to nftables' change events.

``fingerprint()`` hashes what ``nft -j list table inet minidocker`` says, with
the kernel's handles left out (they change on every re-apply, the rules do not):
the daemon keeps the fingerprint of the table it applied and compares. Flushed
chains, deleted or added rules, a deleted table all change it.

``Monitor`` is a NETLINK_NETFILTER socket in the NFNLGRP_NFTABLES group: the
kernel sends it a message for every nftables change in the network namespace
(ours included), so the daemon looks at once instead of on a timer.

``generation()`` is the ruleset's generation id, which every committed nftables
transaction (anyone's, in any table) advances: the fingerprint of the table
just applied can be read later, off the request's path, as long as the
generation is still the one the apply left.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import threading

from minidocker.readiness import readable
from minidocker.firewall import libnft
from minidocker.network import rtnl

NETLINK_NETFILTER = 12
NFNLGRP_NFTABLES = 7
# linux/netfilter/nfnetlink.h, nf_tables.h
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWGEN, NFT_MSG_GETGEN = 15, 16
NFTA_GEN_ID = 1
_NFGENMSG = struct.Struct("=BBH")  # family, version, res_id (big-endian)


def generation_request(seq: int = 1) -> bytes:
    """NFT_MSG_GETGEN (`nft list ruleset`'s first question)."""
    return rtnl.message(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETGEN, 0, _NFGENMSG.pack(socket.AF_UNSPEC, 0, 0), seq)


def generation_of(data: bytes) -> int | None:
    """NFTA_GEN_ID of an NFT_MSG_NEWGEN answer; None when ``data`` holds none."""
    for kind, _seq, body in rtnl.messages(data):
        if kind == NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN:
            gen_id = rtnl.attributes(body, _NFGENMSG.size).get(NFTA_GEN_ID, b"")
            return struct.unpack(">I", gen_id[:4])[0] if len(gen_id) >= 4 else None
    return None


_gen_lock = threading.Lock()
_gen_socket: list = [None, None]  # (namespace inode, socket) of the process's own namespace, kept open


def _ask_generation(s: socket.socket) -> int | None:
    s.send(generation_request())
    return generation_of(s.recv(1 << 16))


def _generation_socket() -> socket.socket:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.settimeout(1.0)
    return s


def generation() -> int | None:
    """The nftables ruleset's generation id in the caller's network namespace;
    None when it cannot be read (then the caller reads the fingerprint at once).
    In the process's own namespace the socket stays open: closing a
    NETLINK_NETFILTER socket makes the kernel flush nf_tables' pending destroy
    work, an RCU grace period (about 20 ms) right after a commit. (A thread in
    another namespace gets a socket of its own for the call: a kept one would
    keep that namespace alive.)"""
    try:
        ns = os.stat("/proc/thread-self/ns/net").st_ino
        if ns != os.stat("/proc/self/ns/net").st_ino:
            with _generation_socket() as s:
                return _ask_generation(s)
        with _gen_lock:
            if _gen_socket[0] != ns:
                if _gen_socket[1] is not None:
                    _gen_socket[1].close()
                _gen_socket[:] = [ns, _generation_socket()]
            try:
                return _ask_generation(_gen_socket[1])
            except OSError:
                _gen_socket[1].close()
                _gen_socket[:] = [None, None]
                raise
    except OSError:
        return None


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
