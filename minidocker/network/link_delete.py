"""A host link's delete, waited for only as long as anything can see the link.

The kernel unregisters a link (it leaves the link list, its addresses and routes
are flushed, RTM_DELLINK goes to listeners) and only then, with the RTNL lock
already released, waits in ``netdev_run_todo`` for an RCU barrier before it
acknowledges the request: 12-15 ms for a veth, and a bridge has another barrier
on top. Nothing of the link is visible in that wait, so ``wait()`` returns at the
RTM_DELLINK notification for the link, which a socket subscribed to the link
group before the request was sent receives; the request and its acknowledgement
finish on their own thread. A failed delete (no notification) is raised by
``wait()`` from the acknowledgement.

The request is one raw rtnetlink message on a socket of its own: the thread
may outlive the verb by the RCU wait, and pyroute2's IPRoute holds four
descriptors (its event loop's) where this holds one; a daemon at its
open-files limit must still be able to remove containers one after another.
"""
from __future__ import annotations

import errno
import os
import socket
import threading

from pyroute2.netlink.exceptions import NetlinkError

from minidocker.errors import KernelError
from minidocker.network import rtnl
from minidocker.network.rtnl import AF_UNSPEC, IFINFOMSG, NLMSG_ERROR, RTM_DELLINK
from minidocker.readiness import readable

RTMGRP_LINK = 1
_TICK_S = 0.01  # how often, while waiting, the request's thread is looked at


def unregistered(data: bytes, index: int) -> bool:
    """Whether a batch of rtnetlink messages says link ``index`` is gone: an
    RTM_DELLINK of family AF_UNSPEC. (A bridge port's leaving its bridge is an
    RTM_DELLINK too, of family AF_BRIDGE, sent before the link goes: not that.)"""
    for mtype, _seq, body in rtnl.messages(data):
        if mtype == RTM_DELLINK and len(body) >= IFINFOMSG.size:
            family, _type, idx = IFINFOMSG.unpack_from(body)[:3]
            if family == AF_UNSPEC and idx == index:
                return True
    return False


def _link_listener() -> socket.socket | None:
    """A socket on the caller's namespace's link group; None when it cannot be
    had (out of descriptors, say: then ``wait()`` waits for the acknowledgement)."""
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE)
    except OSError:
        return None
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((0, RTMGRP_LINK))
        s.setblocking(False)
    except OSError:
        s.close()
        return None
    return s


def delete_request(index: int) -> bytes:
    """RTM_DELLINK of link ``index``, acknowledged (`ip link del`)."""
    return rtnl.message(RTM_DELLINK, rtnl.NLM_F_ACK, rtnl.del_link(index), seq=1)


def acknowledgement(data: bytes) -> int | None:
    """The errno of the acknowledgement in ``data`` (0: done); None: none there."""
    for mtype, _seq, body in rtnl.messages(data):
        if mtype == NLMSG_ERROR and len(body) >= 4:
            return rtnl.error_code(body)
    return None


def _delete(index: int) -> int:
    """Send the delete on a socket of its own; its errno (0: done). The send
    returns once the kernel is through, RCU wait included."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE) as s:
        s.bind((0, 0))
        s.send(delete_request(index))
        while True:
            code = acknowledgement(s.recv(1 << 16))
            if code is not None:
                return code


class LinkDelete:
    """A host link's RTM_DELLINK, sent and acknowledged on a thread of its own
    (one descriptor there, one here while waiting)."""

    def __init__(self, ifname: str, index: int, fail):
        self.ifname, self.index = ifname, index
        self._fail = fail  # (what, NetlinkError) -> KernelError
        self._error: BaseException | None = None
        self._listener = _link_listener()  # before the request: its notification must not be missed
        self._thread = threading.Thread(target=self._run, name="link-del", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            code = _delete(self.index)
            if code not in (0, errno.ENODEV):
                self._error = self._fail(f"delete link {self.ifname}", NetlinkError(code, os.strerror(code)))
        except BaseException as e:  # noqa: BLE001 - re-raised by wait()
            self._error = e

    def wait(self) -> None:
        """Return once the link is unregistered (or the request failed: raised)."""
        try:
            if self._listener is not None and self._heard():
                return
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _heard(self) -> bool:
        """True at the notification; False once the request was answered without
        one (it failed, or the link was gone already) or the listener overflowed."""
        while True:
            if readable([self._listener], _TICK_S):
                heard = self._drain()
                if heard is not None:
                    return heard
            elif not self._thread.is_alive():  # answered: the notification, if any, came before
                return bool(self._drain())

    def _drain(self) -> bool | None:
        """Read what the listener holds: True if the notification is there, False
        if notifications were lost (ENOBUFS), None if it is not there yet."""
        try:
            while True:
                if unregistered(self._listener.recv(1 << 16), self.index):
                    return True
        except BlockingIOError:
            return None
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise KernelError(f"delete link {self.ifname}: {e.strerror}") from None
            return False

    def done(self) -> bool:
        """Whether the kernel has acknowledged (the RCU wait is over too)."""
        return not self._thread.is_alive()
