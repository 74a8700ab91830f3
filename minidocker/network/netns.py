"""Network namespaces as the host sees them (libnetwork's "osl"): a sandbox's
namespace pinned under the runtime dir, made ready (lo up, IPv6 off) and
removed; the pin directory itself; and what the host's own namespace holds
that the Engine asks about (its routes).

The Engine reaches the kernel's namespaces only through here and the drivers.
A handle yielded by ``created``/``entered`` is what a driver's ``join`` plumbs
into: one thread and one netlink socket for the whole step.
"""
import contextlib
import os

from minidocker import explain
from minidocker.network import namespaces, netlink


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


def _ipv6_off(name: str) -> None:
    """Docker 20.10 turns IPv6 off inside containers of IPv4-only networks
    (so `ip addr` shows no ::1 and no fe80:: addresses)."""
    for scope in ("all", "default", "lo"):
        key = f"net.ipv6.conf.{scope}.disable_ipv6"
        explain.emit("ip", "netns", "exec", name, "sysctl", "-w", f"{key}=1")
        try:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write("1")
        except OSError:
            pass  # IPv6 compiled out: nothing to disable


def _ready(ns) -> None:
    _ipv6_off(os.path.basename(ns.path))
    ns.set_up("lo")


@contextlib.contextmanager
def created(path: str):
    """Create a sandbox's namespace pinned at ``path``, IPv6 off and lo up, and
    yield the handle that plumbs it further. Anything failing inside the block
    removes the namespace again."""
    with netlink.inside(path, create=True) as ns:
        try:
            ns.run(_ready, ns)  # one round trip to the namespace's thread
            yield ns
        except BaseException:
            namespaces.delete_netns(path)
            raise


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
