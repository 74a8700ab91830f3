"""Plain data: networks, endpoints, containers. Serialised to JSON by store.py.

The Network/Endpoint/Sandbox split follows libnetwork: a Network owns a subnet and
a Linux bridge; an Endpoint is one container's attachment to one network (address,
MAC, veth); the Sandbox is the container's network namespace (``netns``).
"""
import functools
from dataclasses import asdict, dataclass, field, fields


@functools.cache
def _field_order(cls) -> tuple:
    return tuple(f.name for f in fields(cls))


@functools.cache
def _field_names(cls) -> frozenset:
    return frozenset(_field_order(cls))


def shallow(obj) -> dict:
    """An instance's fields as a dict that shares their values (no deep copy, as
    asdict makes): for serialising at once (store.write_json), not for keeping."""
    return {name: getattr(obj, name) for name in _field_order(type(obj))}


def _from(cls, d: dict):
    names = _field_names(cls)  # (once per class: views build an Endpoint per container per request)
    return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Network:
    id: str
    name: str
    driver: str                 # bridge | host | null
    created: str
    builtin: bool = False
    pending: bool = False  # saved before its bridge exists: a crash then leaves no stranger
    bridge: str = ""            # Linux bridge name (bridge driver)
    subnet: str = ""            # as configured/displayed, e.g. 172.20.16.0/16
    network: str = ""           # the subnet's network, e.g. 172.20.0.0/16
    gateway: str = ""
    ip_range: str = ""
    aux: dict = field(default_factory=dict)
    user_subnet: bool = False
    ipam_config: dict = field(default_factory=dict)  # IPAM.Config[0] as inspect shows it
    internal: bool = False
    attachable: bool = False
    icc: bool = True
    masquerade: bool = True
    mtu: int = 1500
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    ipam_options: dict | None = field(default_factory=dict)

    to_dict = asdict

    @classmethod
    def from_dict(cls, d):
        return _from(cls, d)


@dataclass
class Endpoint:
    """A container's place on one network. Its address (``id``, ``ip``,
    ``prefixlen``, ``gateway``, ``mac``, ``host_veth``) is held only while the
    container runs, as Docker 20.10 does: empty ("") while created or stopped;
    the rest is configuration kept across runs."""
    id: str
    network_id: str
    ip: str
    prefixlen: int
    gateway: str
    mac: str
    ifname: str = "eth0"        # inside the container
    host_veth: str = ""         # on the bridge
    aliases: list = field(default_factory=list)
    static_ip: str = ""         # --ip given by the user (IPAMConfig.IPv4Address)
    static_mac: str = ""        # --mac-address given by the user
    network_name: str = ""      # shown (and named in errors) after the network is gone
    joined: bool = False        # it has run once on this network (inspect shows NetworkID)

    to_dict = asdict

    @classmethod
    def from_dict(cls, d):
        return _from(cls, d)


@dataclass
class Container:
    id: str
    name: str
    created: str
    image: str
    image_id: str
    argv: list
    env: list = field(default_factory=list)
    workdir: str = ""
    hostname: str = ""
    tty: bool = False
    open_stdin: bool = False
    auto_remove: bool = False
    network_mode: str = "default"   # default | bridge | none | host | NAME | container:ID
    # its membership of the builtin `none` network it was run on: "run" (from run),
    # "left" (network disconnect none), "connected" (network connect none again)
    mode_network: str = "run"
    dns: list = field(default_factory=list)
    dns_search: list = field(default_factory=list)
    dns_options: list = field(default_factory=list)
    extra_hosts: list = field(default_factory=list)
    # ports in Docker's shapes: ExposedPorts {"80/tcp": {}}; PortBindings as asked,
    # {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} ("" HostPort: any free one);
    # active_ports: the same shape as bound while running (every HostPort chosen)
    exposed_ports: dict = field(default_factory=dict)
    port_bindings: dict = field(default_factory=dict)
    publish_all: bool = False
    active_ports: dict = field(default_factory=dict)
    entrypoint: list | None = None
    cmd: list | None = None
    labels: dict = field(default_factory=dict)
    stdin_once: bool = False
    attach: list = field(default_factory=lambda: [False, True, True])  # AttachStdin/out/err
    mac_address: str = ""
    restart_policy: dict = field(default_factory=lambda: {"Name": "no", "MaximumRetryCount": 0})
    binds: list | None = None
    # filesystem (volume_verbs.py): mount points as engine/mounts.py reads them, and the
    # create body's own HostConfig.Mounts / Tmpfs / ReadonlyRootfs, Config.Volumes
    mounts: list = field(default_factory=list)
    host_mounts: list | None = None
    tmpfs: dict | None = None
    readonly_rootfs: bool = False
    config_volumes: dict | None = None
    exec_ids: list = field(default_factory=list)
    endpoints: dict = field(default_factory=dict)  # network id -> Endpoint dict
    pending_network: dict = field(default_factory=dict)  # settled at start (netmode.py)
    status: str = "created"      # created | running | exited
    pid: int = 0
    handle: dict = field(default_factory=dict)     # runtime handle (pid, start time, shim)
    exit_code: int = 0
    started_at: str = "0001-01-01T00:00:00Z"
    finished_at: str = "0001-01-01T00:00:00Z"
    netns: str = ""              # sandbox pin path while running (own namespace only)
    sandbox_id: str = ""
    error: str = ""
    # verbs (issue 11): Config.User, Config.Healthcheck and State.Health,
    # Config.StopSignal/StopTimeout, HostConfig.Init
    user: str = ""
    healthcheck: dict | None = None
    health: dict | None = None
    stop_signal: str = ""
    stop_timeout: int | None = None
    init: bool | None = None
    # resources.py / restart_policy.py / pause
    resources: dict = field(default_factory=dict)   # HostConfig's Memory, NanoCpus, PidsLimit...
    restart_count: int = 0
    manually_stopped: bool = False   # stop/kill: no restart policy applies (until the next start)
    oom_killed: bool = False
    paused: bool = False             # frozen (status stays "running")

    to_dict = asdict

    @classmethod
    def from_dict(cls, d):
        return _from(cls, d)

    def etc_owner(self) -> str:
        """Whose bundle holds the /etc files this container binds: the container a
        --network container:X one joined, else its own."""
        return self.network_mode.split(":", 1)[1] if self.network_mode.startswith("container:") else self.id

    def eps(self) -> list[Endpoint]:
        return [Endpoint.from_dict(e) for e in self.endpoints.values()]
