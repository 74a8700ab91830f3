"""Network namespaces as the host sees them (libnetwork's "osl"): a sandbox's
namespace pinned under the runtime dir, made ready (lo up, IPv6 off) and
removed; the pin directory itself; and what the host's own namespace holds
that the Engine asks about (its routes).

The Engine reaches the kernel's namespaces only through here and the drivers.
A handle yielded by ``created``/``entered`` is what a driver's ``join`` plumbs
into: one thread and one netlink socket for the whole step.
"""
import collections
import contextlib
import logging
import os
import threading

from minidocker import explain
from minidocker.network import namespaces, netlink, rtnl

log = logging.getLogger(__name__)


def prepare_pin_dir(path: str) -> None:
    """A private mount at ``path`` (as iproute2 makes /run/netns), so the pins
    made under it do not propagate into other mount namespaces."""
    namespaces.ensure_private_dir(path)


def release_pin_dir(path: str) -> None:
    """Unmount the pin directory (KernelError when it is not mounted)."""
    namespaces.umount(path, namespaces.MNT_DETACH)


def pins(path: str) -> list[str]:
    """The pin files under the pin directory ``path``."""
    return [os.path.join(path, name) for name in os.listdir(path)]


_IPV6_OFF = tuple(f"net.ipv6.conf.{scope}.disable_ipv6" for scope in ("all", "default", "lo"))


def _ipv6_off() -> None:
    """Docker 20.10 turns IPv6 off inside containers of IPv4-only networks
    (so `ip addr` shows no ::1 and no fe80:: addresses)."""
    for key in _IPV6_OFF:
        try:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write("1")
        except OSError:
            pass  # IPv6 compiled out: nothing to disable


def _explain_ready(name: str) -> None:
    for key in _IPV6_OFF:
        explain.emit("ip", "netns", "exec", name, "sysctl", "-w", f"{key}=1")
    explain.emit("ip", "-n", name, "link", "set", "lo", "up")


def _ready_socket() -> rtnl.Socket:
    """On a thread in a new namespace: IPv6 off, lo up; the socket it plumbs with."""
    _ipv6_off()
    sock = rtnl.Socket()
    try:
        sock.change(rtnl.RTM_NEWLINK, rtnl.set_up(netlink.LOOPBACK_IFINDEX))
    except BaseException:
        sock.close()
        raise
    return sock


class Warm:
    """Namespaces made ahead of the starts that take them, as a fork server has
    its process ready: each is a thread that unshared a fresh namespace, turned
    IPv6 off, raised lo and opened its netlink socket in there, unpinned. A start
    takes one and pins it (one bind mount) where it would unshare, write three
    sysctls and raise lo itself: 2-5 ms, and more with many namespaces, since
    /proc/sys lookups grow with their number. A thread of ours makes the next one
    meanwhile, on the other core. Unpinned, a warm namespace lives only as long
    as its thread: a daemon that dies leaves none behind. ``size``: how many are
    kept ready (0: none, every start makes its own)."""

    def __init__(self, size: int = 2):
        self._size = size
        self._ready: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._filler = None
        if size > 0:
            self._filler = threading.Thread(target=self._fill, name="netns-warm", daemon=True)
            self._filler.start()
            self._wake.set()

    def __len__(self) -> int:
        return len(self._ready)

    def _fill(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    if self._closed:
                        return
                    if len(self._ready) >= self._size:
                        break
                try:
                    thread = namespaces.NetnsThread(None, create=True, first=_ready_socket)
                except Exception as ex:  # noqa: BLE001 - starts make their own meanwhile
                    log.warning("could not make a namespace ahead: %s", ex)
                    break
                with self._lock:
                    keep = not self._closed
                    if keep:
                        self._ready.append(thread)
                if not keep:
                    _discard(thread)
                    return

    def take(self) -> "namespaces.NetnsThread | None":
        """A warm namespace's thread (None: none is ready); the next is made meanwhile."""
        with self._lock:
            thread = self._ready.popleft() if self._ready else None
        if self._filler is not None:
            self._wake.set()
        return thread

    def close(self) -> None:
        """End the filler and every warm namespace not taken."""
        with self._lock:
            self._closed = True
            left = list(self._ready)
            self._ready.clear()
        self._wake.set()
        if self._filler is not None:
            self._filler.join()
        for thread in left:
            _discard(thread)


def _discard(thread) -> None:
    thread.close(last=thread.first_result.close)


class Made:
    """A sandbox's namespace just made and pinned at ``path``, IPv6 off and lo up
    (a warm one when ``warm`` has one ready): ``handle`` plumbs it further, on
    the namespace's thread, until ``close`` (the namespace stays) or ``discard``
    (it goes). ``created`` is the same for a with-block."""

    def __init__(self, path: str, warm: Warm | None = None):
        self.path = path
        thread = warm.take() if warm is not None else None
        if thread is None:
            thread = namespaces.NetnsThread(path, create=True)
            try:
                thread.first_result = thread.run(_ready_socket)
            except BaseException:
                thread.close()
                namespaces.delete_netns(path)
                raise
        else:
            try:
                thread.pin(path)
            except BaseException:
                _discard(thread)
                raise
        _explain_ready(os.path.basename(path))
        self._plumbing = contextlib.ExitStack()
        self.handle = self._plumbing.enter_context(netlink.adopted(thread))

    def close(self) -> None:
        """Done plumbing: the thread and its socket end; the namespace stays pinned."""
        self._plumbing.close()

    def discard(self) -> None:
        """Undo: the thread ends and the namespace is unpinned (it goes with its last user)."""
        try:
            self.close()
        finally:
            namespaces.delete_netns(self.path)


@contextlib.contextmanager
def created(path: str, warm: Warm | None = None):
    """A Made namespace's handle for the block: anything failing inside removes
    the namespace again."""
    made = Made(path, warm)
    try:
        yield made.handle
    except BaseException:
        made.discard()
        raise
    made.close()


@contextlib.contextmanager
def entered(path: str):
    """A handle into the existing namespace pinned at ``path``."""
    with netlink.inside(path) as ns:
        yield ns


def delete(path: str) -> None:
    """Unpin a namespace; it vanishes once no process or socket holds it."""
    namespaces.delete_netns(path)


def host_routes() -> list:
    """(destination, device name) of every IPv4 route in the host's main table."""
    with netlink.inside(None) as host:
        return host.routes_with_dev()


def links_view(path: str | None) -> tuple[dict, str]:
    """The links (master, up, addresses) and the default gateway of the namespace
    pinned at ``path`` (None: the host's), as netlink.Handle.links_view."""
    with netlink.inside(path) as h:
        return h.links_view()


def delete_host_link(name: str) -> None:
    """Delete a link of the host's (gone already: nothing to do)."""
    with netlink.inside(None) as h:
        h.delete_link(name)
