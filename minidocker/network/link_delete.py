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
"""
from __future__ import annotations

import errno
import os
import socket
import struct
import threading

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from minidocker.errors import KernelError
from minidocker.readiness import readable

RTMGRP_LINK = 1
RTM_DELLINK = 17
AF_UNSPEC = 0
_NLMSGHDR = struct.Struct("=IHHII")    # length, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change


def unregistered(data: bytes, index: int) -> bool:
    """Whether a batch of rtnetlink messages says link ``index`` is gone: an
    RTM_DELLINK of family AF_UNSPEC. (A bridge port's leaving its bridge is an
    RTM_DELLINK too, of family AF_BRIDGE, sent before the link goes: not that.)"""
    off = 0
    while off + _NLMSGHDR.size <= len(data):
        length, mtype = _NLMSGHDR.unpack_from(data, off)[:2]
        if length < _NLMSGHDR.size:
            return False
        body = off + _NLMSGHDR.size
        if mtype == RTM_DELLINK and body + _IFINFOMSG.size <= len(data):
            family, _type, idx = _IFINFOMSG.unpack_from(data, body)[:3]
            if family == AF_UNSPEC and idx == index:
                return True
        off += (length + 3) & ~3
    return False


def _link_listener() -> socket.socket | None:
    """A socket on the caller's namespace's link group; None when it cannot be
    had (then ``wait()`` waits for the acknowledgement)."""
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


class LinkDelete:
    """A host link's RTM_DELLINK, sent and acknowledged on a thread of its own."""

    def __init__(self, ifname: str, index: int, fail):
        self.ifname, self.index = ifname, index
        self._fail = fail  # (what, NetlinkError) -> KernelError
        self._error: BaseException | None = None
        self._listener = _link_listener()  # before the request: its notification must not be missed
        self._answered, self._answer_w = os.pipe2(os.O_CLOEXEC)  # readable (EOF) once acknowledged
        self._thread = threading.Thread(target=self._delete, name="link-del", daemon=True)
        self._thread.start()

    def _delete(self) -> None:
        try:
            with IPRoute() as ipr:
                ipr.link("del", index=self.index)
        except NetlinkError as e:
            if e.code != errno.ENODEV:
                self._error = self._fail(f"delete link {self.ifname}", e)
        except BaseException as e:  # noqa: BLE001 - re-raised by wait()
            self._error = e
        finally:
            os.close(self._answer_w)

    def wait(self) -> None:
        """Return once the link is unregistered (or the request failed: raised)."""
        try:
            if self._listener is not None and self._heard():
                return
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._answered >= 0:
                os.close(self._answered)
                self._answered = -1
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _heard(self) -> bool:
        """True at the notification; False once the request was answered without
        one (it failed, or the link was gone already) or the listener overflowed."""
        s = self._listener
        while True:
            ready = readable([s.fileno(), self._answered])
            if s.fileno() in ready:
                try:
                    while True:
                        if unregistered(s.recv(1 << 16), self.index):
                            return True
                except BlockingIOError:
                    continue
                except OSError as e:  # ENOBUFS: notifications were lost
                    if e.errno != errno.ENOBUFS:
                        raise KernelError(f"delete link {self.ifname}: {e.strerror}") from None
                    return False
            else:  # answered, and nothing heard before the answer
                return False

    def done(self) -> bool:
        """Whether the kernel has acknowledged (the RCU wait is over too)."""
        return not self._thread.is_alive()
