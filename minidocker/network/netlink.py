"""Netlink verbs: one kernel step per method, each explained as an `ip` command.

The work of one step inside one network namespace goes through one handle
(``inside``): one netlink socket, opened once. The requests every container
start makes (a link's index, the veth pair, up, an address, the default route)
are raw messages on that socket (rtnl.py); the rest goes through a pyroute2
IPRoute the handle opens when first needed. For a container's namespace the
socket is opened, and every call runs, on one thread that has entered it
(namespaces.NetnsThread); ``inside(None)`` is the caller's own (host) namespace.
Names given to --explain are the basenames of the netns pins, as `ip netns add
NAME` would create them (`ip -n NAME ...`).
"""
import contextlib
import errno
import ipaddress
import os
import threading

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from minidocker import explain
from minidocker.errors import KernelError, LimitReached
from minidocker.network import ctnl, rtnl
from minidocker.network.link_delete import LinkDelete
from minidocker.network.namespaces import NetnsThread


LOOPBACK_IFINDEX = 1  # the kernel's: lo, registered first in every namespace
BRIDGE_MAX_PORTS = 1023  # the kernel's BR_MAX_PORTS (1024) port numbers, 0 reserved


def _fail(what: str, e: Exception) -> KernelError:
    return KernelError(f"{what}: {getattr(e, 'args', [None, e])[-1]}")


def _bridge_full(bridge: str) -> LimitReached:
    return LimitReached(f"bridge {bridge} has reached the Linux bridge's limit of {BRIDGE_MAX_PORTS} ports")


class Handle:
    """One netlink socket in one namespace (``path``; None = the host's)."""

    def __init__(self, sock: rtnl.Socket, path: str | None, run, home: int | None = None):
        self.path = path
        self._sock = sock
        self._pyroute2: IPRoute | None = None  # opened on first use, on the handle's thread
        self._remote = run  # runs a function where the socket lives (the namespace's thread)
        self._home = home  # that thread's ident (None: the caller's own)
        self._indexes: dict[str, int] = {}  # name -> ifindex, for this handle's step (delete_link forgets)

    def run(self, fn, *args, **kwargs):
        """``fn`` on this handle's thread, inside its namespace (e.g. a /proc/sys write).
        The handle's own verbs called by ``fn`` run there directly: several steps,
        one round trip to the namespace's thread."""
        return self._run(fn, *args, **kwargs)

    @property
    def _ipr(self) -> IPRoute:
        """pyroute2's socket, for what rtnl.py does not do (called on the handle's thread)."""
        if self._pyroute2 is None:
            self._pyroute2 = IPRoute()
        return self._pyroute2

    def close(self) -> None:
        """Close the sockets (on the handle's thread: ``inside`` does)."""
        if self._pyroute2 is not None:
            self._pyroute2.close()
        self._sock.close()

    def _run(self, fn, *args, **kwargs):
        if self._home is None or threading.get_ident() == self._home:
            return fn(*args, **kwargs)
        return self._remote(fn, *args, **kwargs)

    def _explain(self, *argv: str) -> None:
        if self.path is None:
            explain.emit("ip", *argv)
        else:
            explain.emit("ip", "-n", os.path.basename(self.path), *argv)

    def _index(self, ifname: str) -> int:
        """The link's index, looked up once per handle: one step's links are not
        renamed, and a link deleted through this handle is forgotten."""
        idx = self._indexes.get(ifname, LOOPBACK_IFINDEX if ifname == "lo" else None)
        if idx is None:
            idx = self._sock.link_index(ifname)
            if idx is None:
                raise KernelError(f"link {ifname} not found")
            self._indexes[ifname] = idx
        return idx

    # ---- reads ------------------------------------------------------------------
    def link_exists(self, ifname: str) -> bool:
        return self._run(lambda: self._sock.link_index(ifname) is not None)

    def routes_with_dev(self) -> list[tuple[ipaddress.IPv4Network, str]]:
        """(destination, device name) of every IPv4 route in the main table."""
        def work():
            routes = self._sock.main_routes()
            names = {oif: self._sock.link_name_of(oif) for oif in {oif for _, _, oif in routes if oif is not None}}
            return [(ipaddress.ip_network(f"{dst}/{plen}", strict=False), names.get(oif, ""))
                    for dst, plen, oif in routes]
        return self._run(work)

    def links_view(self) -> dict:
        """name -> {"master": name or "", "up": bool, "addrs": ["ip/len", ...]} of
        every link, and "default" -> the IPv4 default route's gateway ("" if none)."""
        def work():
            links = self._ipr.get_links()
            names = {l["index"]: l.get_attr("IFLA_IFNAME") for l in links}
            out = {}
            for l in links:
                out[l.get_attr("IFLA_IFNAME")] = {"master": names.get(l.get_attr("IFLA_MASTER"), ""),
                                                  "up": bool(l["flags"] & 1), "addrs": []}
            for a in self._ipr.get_addr(family=2):
                name = names.get(a["index"])
                if name in out:
                    out[name]["addrs"].append(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
            default = ""
            for r in self._ipr.get_routes(family=2, table=254):
                if r["dst_len"] == 0:
                    default = r.get_attr("RTA_GATEWAY") or ""
            return out, default
        return self._run(work)

    # ---- links ------------------------------------------------------------------
    def create_bridge(self, name: str, mtu: int = 1500, up: bool = False) -> bool:
        """A new bridge (``up``: born up, one request instead of two); False, and
        nothing done, when a link of that name exists already."""
        def work():
            try:
                self._sock.change(rtnl.RTM_NEWLINK, rtnl.new_bridge(name, mtu, up), create=True)
            except NetlinkError as e:
                if e.code == errno.EEXIST:
                    return False
                raise _fail(f"create bridge {name}", e)
            self._explain("link", "add", name, *(["up"] if up else []), "type", "bridge")
            return True
        return self._run(work)

    def create_veth_into(self, host_name: str, peer_name: str, netns_path: str, mtu: int = 1500,
                         master: str | None = None, peer_mac: str | None = None) -> None:
        """Create a veth pair whose peer is born inside the namespace pinned at
        ``netns_path``. With ``master`` the host end is born a port of that bridge,
        and up; ``peer_mac``: the peer's address. One request, where joining the
        bridge, raising the host end and setting the peer's MAC took one each (and
        a lookup each): the same kernel state."""
        # txqueuelen 0 on both ends, as Docker creates them (a veth needs no queue)
        self._explain("link", "add", host_name, "mtu", str(mtu), "txqueuelen", "0",
                      *(["master", master, "up"] if master else []), "type", "veth",
                      "peer", "name", peer_name, *(["address", peer_mac] if peer_mac else []),
                      "mtu", str(mtu), "txqueuelen", "0", "netns", os.path.basename(netns_path))

        def work():
            master_index = self._index(master) if master else None
            fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                self._sock.change(rtnl.RTM_NEWLINK, rtnl.new_veth(host_name, peer_name, mtu, fd, master_index,
                                                                  peer_mac), create=True)
            except NetlinkError as e:
                if master and e.code == errno.EXFULL:  # BR_MAX_PORTS (the kernel deletes the pair)
                    raise _bridge_full(master) from None
                raise _fail(f"create veth {host_name}", e)
            finally:
                os.close(fd)
        self._run(work)

    def delete_link(self, ifname: str) -> None:
        """Delete a link; a link that is already gone is not an error."""
        def work():
            self._indexes.pop(ifname, None)
            idx = self._sock.link_index(ifname)
            if idx is None:
                return
            self._explain("link", "del", ifname)
            try:
                self._sock.change(rtnl.RTM_DELLINK, rtnl.del_link(idx))
            except NetlinkError as e:
                if e.code != errno.ENODEV:
                    raise _fail(f"delete link {ifname}", e)
        self._run(work)

    def delete_link_begin(self, ifname: str) -> "LinkDelete | None":
        """Delete a host link, the request answered on a thread of its own;
        ``wait()`` on the result returns once the kernel has unregistered the link
        (before the RCU wait the kernel's answer comes after). None: there was no
        such link."""
        index = self._host_index(ifname, "delete_link_begin")
        if index is None:
            return None
        self._explain("link", "del", ifname)
        return LinkDelete(ifname, index, _fail)

    def _host_index(self, ifname: str, what: str) -> int | None:
        """The index of a host link about to go (forgotten by this handle); None: no such link."""
        if self.path is not None:
            raise ValueError(f"{what}: host links only")
        self._indexes.pop(ifname, None)
        return self._sock.link_index(ifname)

    def flush_conntrack(self, ip: str, filtered: bool = True) -> None:
        """Forget the connections of an address that is going away (`conntrack -D -s
        IP`, and -d, and those DNAT'ed to it): a new owner of the address, or of a
        published port, must not inherit them.

        The kernel filters (a delete with CTA_FILTER: one in-kernel walk of the
        table per tuple field, about 0.2 ms; sent raw by ctnl.py). A kernel that
        cannot (it wants a full tuple) says EINVAL or EOPNOTSUPP without deleting
        anything; then, or with ``filtered=False``, the table is dumped and
        matched here (a netlink dump of the whole table: about 11 ms even when it
        is empty)."""
        self._explain_conntrack(ip)

        def work():
            if filtered:
                try:
                    return ctnl.flush(ip)
                except NetlinkError as ex:
                    if ex.code not in (errno.EINVAL, errno.EOPNOTSUPP):
                        raise _fail(f"delete conntrack entries of {ip}", ex)
            _flush_conntrack_by_dump(ip)
        self._run(work)

    def _explain_conntrack(self, ip: str) -> None:
        explain.emit(*([] if self.path is None else ["ip", "netns", "exec", os.path.basename(self.path)]),
                     "conntrack", "-D", "-s", ip)

    def set_hairpin(self, ifname: str) -> None:
        """Let the bridge send a frame back out of the port it came in on (a
        container reaching its own published port through the host's address,
        DNAT'd at the bridge when br_netfilter is on)."""
        self._explain("link", "set", ifname, "type", "bridge_slave", "hairpin", "on")
        info = {"attrs": [("IFLA_INFO_SLAVE_KIND", "bridge"),
                          ("IFLA_INFO_SLAVE_DATA", {"attrs": [("IFLA_BRPORT_MODE", 1)]})]}
        self._run(lambda: self._ipr.link("set", index=self._index(ifname), IFLA_LINKINFO=info))

    def set_mac(self, ifname: str, mac: str) -> None:
        self._explain("link", "set", ifname, "address", mac)
        self._run(lambda: self._ipr.link("set", index=self._index(ifname), address=mac))

    def set_up(self, ifname: str) -> None:
        self._explain("link", "set", ifname, "up")
        self._run(lambda: self._sock.change(rtnl.RTM_NEWLINK, rtnl.set_up(self._index(ifname))))

    # ---- addresses and routes -----------------------------------------------------
    def add_address(self, ifname: str, cidr: str) -> None:
        """An address that is already there is not an error."""
        self._explain("addr", "add", cidr, "brd", "+", "dev", ifname)
        iface = ipaddress.ip_interface(cidr)

        def work():
            try:
                self._sock.change(rtnl.RTM_NEWADDR, rtnl.new_address(
                    self._index(ifname), str(iface.ip), iface.network.prefixlen,
                    str(iface.network.broadcast_address)), create=True)
            except NetlinkError as e:
                if e.code != errno.EEXIST:
                    raise _fail(f"add address {cidr} to {ifname}", e)
        self._run(work)

    def add_default_route(self, gateway: str, ifname: str) -> None:
        self._explain("route", "add", "default", "via", gateway, "dev", ifname)

        def work():
            try:
                self._sock.change(rtnl.RTM_NEWROUTE, rtnl.new_default_route(gateway, self._index(ifname)),
                                  create=True)
            except NetlinkError as e:
                if e.code != errno.EEXIST:
                    raise _fail("add default route", e)
        self._run(work)


def _flush_conntrack_by_dump(ip: str) -> None:
    from pyroute2 import Conntrack
    with contextlib.closing(Conntrack()) as ct:
        for e in list(ct.dump_entries()):
            orig, reply = e.tuple_orig, e.tuple_reply
            if ip in (orig.saddr, orig.daddr, reply.saddr, reply.daddr):
                try:
                    ct.entry("del", tuple_orig=orig)
                except NetlinkError as ex:
                    if ex.code != errno.ENOENT:  # gone meanwhile
                        raise _fail(f"delete conntrack entries of {ip}", ex)


def _direct(fn, *args, **kwargs):
    return fn(*args, **kwargs)


@contextlib.contextmanager
def inside(path: str | None, create: bool = False):
    """A Handle into the namespace pinned at ``path`` (None: the caller's own),
    open for the block. ``create``: make that namespace first (`ip netns add`)."""
    if path is None:
        handle = Handle(rtnl.Socket(), None, _direct)
        try:
            yield handle
        finally:
            handle.close()
        return
    # the socket is opened in there, by the thread once it has entered (no helper
    # process), and closed by its last job: no round trip of their own
    with adopted(NetnsThread(path, create=create, first=rtnl.Socket)) as handle:
        yield handle


@contextlib.contextmanager
def adopted(thread: NetnsThread):
    """A Handle over ``thread`` (a NetnsThread in a pinned namespace whose first
    call opened an rtnl.Socket there), open for the block; the thread ends with it."""
    handle = Handle(thread.first_result, thread.path, thread.run, thread.ident)
    try:
        yield handle
    finally:
        thread.close(last=handle.close)
