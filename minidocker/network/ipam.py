"""Pure IPv4 address management with Docker 20.10's default-IPAM semantics.

No I/O. Every rule and message below was checked against Docker Engine 20.10.24
(CLI 20.10.24, `/usr/bin/docker`). Exit status of `docker network create` is 1 for
all of them, whether the check is client-side or daemon-side.

Client-side checks: the docker CLI (consolidateIpam) rejects some configurations
before sending anything, and prints the bare message without the
"Error response from daemon: " prefix. Errors raised for those carry
`client_side = True` (an attribute on the InvalidArgument instance; see
`is_client_side`) so the minidocker CLI can print them the same way.
"""
from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from minidocker.errors import Conflict, Exhausted, InvalidArgument, UntypedInvalid

# Docker's built-in default pools for local scope (172.17-31 /16, then
# 192.168.0.0/16 cut into /20s). Index 0 is the default bridge's pool.
DEFAULT_POOLS: tuple[IPv4Network, ...] = tuple(
    [IPv4Network(f"172.{b}.0.0/16") for b in range(17, 32)]
    + list(IPv4Network("192.168.0.0/16").subnets(new_prefix=20))
)

POOL_OVERLAP = "Pool overlaps with other one on this address space"
POOLS_EXHAUSTED = ("could not find an available, non-overlapping IPv4 address pool "
                   "among the defaults to assign to the network")
CORRESPONDING_SUBNET = "every ip-range or gateway must have a corresponding subnet"
USER_IP_NEEDS_SUBNET = ("user specified IP address is supported only when connecting "
                        "to networks with user configured subnets")
ADDRESS_IN_USE = "Address already in use"
NO_ADDRESS_IN_POOL = "No available addresses on this pool"


def client_error(message: str) -> InvalidArgument:
    """An InvalidArgument that docker's CLI reports itself (no daemon prefix)."""
    err = InvalidArgument(message)
    err.client_side = True  # type: ignore[attr-defined]
    return err


def is_client_side(err: BaseException) -> bool:
    return bool(getattr(err, "client_side", False))


def _parse_cidr(text: str) -> IPv4Network | None:
    """Go net.ParseCIDR for IPv4: 'a.b.c.d/N', host bits allowed; None if invalid."""
    if not isinstance(text, str) or text.count("/") != 1:
        return None
    addr, _, plen = text.partition("/")
    if not plen.isdigit() or not plen.isascii() or len(plen) > 3:
        return None
    try:
        IPv4Address(addr)
        return IPv4Network(f"{addr}/{int(plen)}", strict=False)
    except ValueError:
        return None


def _parse_ip(text: str) -> IPv4Address | None:
    try:
        return IPv4Address(text.strip()) if isinstance(text, str) else None
    except ValueError:
        return None


def parse_subnet(text: str) -> tuple[IPv4Network, str]:
    """'172.20.16.0/16' -> (IPv4Network('172.20.0.0/16'), '172.20.16.0/16').

    The configured text is kept for display (inspect shows it unchanged).
    Daemon-side error, exit 1:
      Invalid subnet 10.300.0.0/16 : invalid CIDR address: 10.300.0.0/16
    """
    net = _parse_cidr(text)
    if net is None:
        raise UntypedInvalid(f"Invalid subnet {text} : invalid CIDR address: {text}")
    return net, text


def _matches(subnet_text: str, data: str) -> bool:
    """docker CLI subnetMatches(subnet, data): is data's IP inside subnet?"""
    net = _parse_cidr(subnet_text)
    if net is None:
        raise client_error(f"invalid subnet: invalid CIDR address: {subnet_text}")
    if "/" in data:
        other = _parse_cidr(data)
        if other is None:
            raise client_error(f"invalid CIDR address: {data}")
        ip = IPv4Address(data.partition("/")[0])
    else:
        ip = _parse_ip(data)
        if ip is None:
            return False
    return ip in net


def validate_config(subnet: str | None, gateway: str | None = None,
                    ip_range: str | None = None,
                    aux_addresses: dict[str, str] | None = None,
                    existing: list[IPv4Network] | None = None) -> dict | None:
    """Validate and normalise one user IPAM config (one subnet).

    Returns None when nothing at all was configured (the caller then picks a
    default pool with `choose_pool` and builds the config with `auto_config`).
    Otherwise returns
      {"config": {"Subnet": .., ["IPRange": ..], ["Gateway": ..],
                  ["AuxiliaryAddresses": {..}]},      # as inspect shows it
       "subnet": IPv4Network, "gateway": IPv4Address (given or auto-chosen),
       "ip_range": IPv4Network | None, "aux": {name: IPv4Address}}
    "Gateway" appears in "config" only when the user gave one (as Docker).

    Client-side (client_side=True, printed without prefix, exit 1):
      every ip-range or gateway must have a corresponding subnet
      invalid subnet: invalid CIDR address: S        (bad subnet + a gateway/range/aux)
      invalid CIDR address: R                        (bad ip-range containing '/')
      no matching subnet for range R
      no matching subnet for gateway G               (also for unparsable G)
      no matching subnet for aux-address A           (also for unparsable A)
    Daemon-side ("Error response from daemon: ...", exit 1):
      Invalid subnet S : invalid CIDR address: S      (InvalidArgument)
      Pool overlaps with other one on this address space   (Conflict)
      failed to allocate gateway (G): Address already in use          (Conflict)
      failed to allocate gateway (): No available addresses on this pool (Exhausted)
      failed to allocate secondary ip address (K:A): Address already in use (Conflict)
    """
    aux_addresses = dict(aux_addresses or {})
    existing = list(existing or [])
    if subnet is None or subnet == "":
        if gateway or ip_range:
            raise client_error(CORRESPONDING_SUBNET)
        for addr in aux_addresses.values():
            raise client_error(f"no matching subnet for aux-address {addr}")
        return None

    # --- the docker CLI's consolidateIpam, in its order ---
    if ip_range and not _matches(subnet, ip_range):
        raise client_error(f"no matching subnet for range {ip_range}")
    if gateway and not _matches(subnet, gateway):
        raise client_error(f"no matching subnet for gateway {gateway}")
    for addr in aux_addresses.values():
        if not _matches(subnet, addr):
            raise client_error(f"no matching subnet for aux-address {addr}")

    # --- daemon side ---
    net, shown = parse_subnet(subnet)
    for other in existing:
        if net.overlaps(other):
            raise Conflict(POOL_OVERLAP)
    rng = _parse_cidr(ip_range) if ip_range else None
    reserved = {net.network_address, net.broadcast_address}
    if gateway:
        gw = _parse_ip(gateway)
        if gw is None:  # unreachable after the client check; the API's wording
            raise InvalidArgument(f"invalid gateway address {gateway} in Ipam configuration")
        if gw not in net:
            raise InvalidArgument(f"failed to allocate gateway ({gateway}): "
                                  "Requested address is out of range")
        if gw in reserved:
            raise Conflict(f"failed to allocate gateway ({gateway}): {ADDRESS_IN_USE}")
    else:
        try:
            gw = allocate(net, None, rng, set())
        except Exhausted:
            raise Exhausted("failed to allocate gateway (): "
                            "No available addresses on this pool") from None
    taken = reserved | {gw}
    aux: dict[str, IPv4Address] = {}
    for key, text in aux_addresses.items():
        ip = _parse_ip(text)
        if ip is None:
            raise InvalidArgument(f"non parsable secondary ip address ({key}:{text}) passed")
        if ip not in net:
            raise InvalidArgument(f"auxiliary address: ({key}:{text}) must belong to the master pool: {net}")
        if ip in taken:
            raise Conflict(f"failed to allocate secondary ip address ({key}:{text}): {ADDRESS_IN_USE}")
        taken.add(ip)
        aux[key] = ip

    config: dict = {"Subnet": shown}
    if ip_range:
        config["IPRange"] = ip_range
    if gateway:
        config["Gateway"] = gateway
    if aux_addresses:
        config["AuxiliaryAddresses"] = dict(aux_addresses)
    return {"config": config, "subnet": net, "gateway": gw, "ip_range": rng, "aux": aux}


def auto_config(pool: IPv4Network) -> dict:
    """The normalised config of a default pool: gateway is its first address."""
    gw = pool.network_address + 1
    return {"config": {"Subnet": str(pool), "Gateway": str(gw)},
            "subnet": pool, "gateway": gw, "ip_range": None, "aux": {}}


def choose_pool(in_use: list[IPv4Network], host_routes: list[IPv4Network],
                cursor: int | None = None) -> tuple[IPv4Network, int]:
    """Next default pool that overlaps neither a network nor a host route.

    `cursor` is the index in DEFAULT_POOLS of the pool handed out last (None:
    nothing yet). The search starts just after it and wraps round, so a pool
    just released is not handed out again before the others (as Docker, checked:
    after 172.18..21 were used, 172.22.. came next, wrapping to 172.18 at the end).
    Returns (pool, new_cursor). Daemon-side error, exit 1:
      could not find an available, non-overlapping IPv4 address pool among the
      defaults to assign to the network          (Exhausted)
    """
    n = len(DEFAULT_POOLS)
    start = 0 if cursor is None else (cursor + 1) % n
    busy = list(in_use) + list(host_routes)
    for step in range(n):
        i = (start + step) % n
        pool = DEFAULT_POOLS[i]
        if not any(pool.overlaps(b) for b in busy):
            return pool, i
    raise Exhausted(POOLS_EXHAUSTED)


def allocate(subnet: IPv4Network, gateway: IPv4Address | None,
             ip_range: IPv4Network | None, taken: Iterable[IPv4Address | int],
             requested: IPv4Address | None = None, user_subnet: bool = True,
             network: str | None = None) -> IPv4Address:
    """Pick an address: `requested` if given and free, else the lowest free one.

    Never the subnet's network or broadcast address, the gateway or `taken`
    (addresses or their integers; it should include aux addresses). Automatic
    choice stays inside ip_range (clipped to the subnet); a requested address
    need only be in the subnet. Messages (daemon-side; `docker run` exits 125):
      user specified IP address is supported only when connecting to networks
        with user configured subnets                         (InvalidArgument)
      Invalid address IP: It does not belong to any of this network's subnets
                                                             (InvalidArgument)
      Address already in use                                 (Conflict)
      No available addresses on this pool   (requested, and no address is free: Exhausted)
      no available IPv4 addresses on this network's address pools: NAME (ID)
        (Exhausted; pass network="NAME (ID)", else a generic text)
    """
    first, last = int(subnet.network_address), int(subnet.broadcast_address)
    # integers throughout: no address object, and no hash of one, per held address
    held = {int(a) for a in taken} | {first, last}
    if gateway is not None:
        held.add(int(gateway))
    if requested is not None:
        requested = IPv4Address(requested)
        if not user_subnet:
            raise InvalidArgument(USER_IP_NEEDS_SUBNET)
        if requested not in subnet:
            raise InvalidArgument(f"Invalid address {requested}: It does not belong "
                                  "to any of this network's subnets")
        if int(requested) in held:
            if _full(subnet, held):  # Docker looks at the pool first
                raise Exhausted(NO_ADDRESS_IN_POOL)
            raise Conflict(ADDRESS_IN_USE)
        return requested
    lo, hi = first + 1, last - 1
    if ip_range is not None:
        lo = max(lo, int(ip_range.network_address))
        hi = min(hi, int(ip_range.broadcast_address))
    for value in range(lo, hi + 1):
        if value not in held:
            return IPv4Address(value)
    if network:
        raise Exhausted(f"no available IPv4 addresses on this network's address pools: {network}")
    raise Exhausted("no available IPv4 addresses on this network's address pools")


def _full(subnet: IPv4Network, held: set[int]) -> bool:
    """No address of the subnet is free (held: the integers of the taken
    addresses, gateway, network and broadcast)."""
    first, last = int(subnet.network_address), int(subnet.broadcast_address)
    return subnet.num_addresses <= sum(1 for a in held if first <= a <= last)


def mac_for(ip: IPv4Address | str) -> str:
    """'172.20.0.1' -> '02:42:ac:14:00:01' (Docker before v28)."""
    return "02:42:" + ":".join(f"{b:02x}" for b in IPv4Address(ip).packed)
