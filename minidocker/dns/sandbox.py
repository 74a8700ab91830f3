"""What the embedded DNS server keeps per attached sandbox (container netns): its
listening sockets, configuration, TCP connections and forwards in flight, its
fairness quota, its caches of answers and of forwarded queries, and its pool of
upstream sockets. Touched on the server's loop thread only."""
from __future__ import annotations

from collections import OrderedDict

from minidocker.dns import packet as wire


class Sandbox:
    def __init__(self, key, netns_path, ns_fd, udp, tcp, networks, dns_servers, internal):
        self.key, self.netns_path, self.ns_fd = key, netns_path, ns_fd
        self.udp, self.tcp = udp, tcp
        self.networks, self.dns_servers, self.internal = list(networks), list(dns_servers), internal
        self.ndots_set = False  # the container's --dns-option has ndots:N
        self.conns: OrderedDict[int, object] = OrderedDict()
        self.pending: set = set()
        self.listen_paused = False
        self.turn = -1       # the loop turn ``spent`` counts for
        self.spent = 0
        # query bytes but the id -> answer bytes but the id, per transport; valid for
        # one version of the table and one set of networks (cleared on either change)
        self.cache: tuple[dict[bytes, bytes], dict[bytes, bytes]] = ({}, {})
        # query bytes but the id -> its parse, for queries that are forwarded (same validity)
        self.forwards: dict[bytes, wire.Message] = {}
        self.cache_version = -1
        self.upstreams: list[tuple[str, bool]] | None = None  # of dns_servers, made on first use
        self.sockets: object | None = None  # fresh UDP sockets in the netns, for forwards
        self.dropped = 0     # forwards not made: the sandbox's budget was spent
