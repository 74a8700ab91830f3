"""Pure validation/parsing of user input, with Docker 20.10's messages.

Checked against docker 20.10.24. Where the docker CLI validates a flag itself it
prints `invalid argument "VALUE" for "FLAG" flag: MESSAGE` (exit 125 for
run/create, see `flag_message`); errors raised for those carry
`client_side = True`. Port specs are also checked by the CLI, which prints
`docker: MESSAGE.` and exits 125. Daemon-side messages are printed after
"Error response from daemon: ".
"""
from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass
from typing import Mapping

from minidocker.errors import InvalidArgument, UntypedInvalid

NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def _client(message: str) -> InvalidArgument:
    err = InvalidArgument(message)
    err.client_side = True  # type: ignore[attr-defined]
    return err


def flag_message(value: str, flag: str, message: str) -> str:
    """How the docker CLI reports a bad flag value:
    flag_message("=x", "-e, --env", "invalid environment variable: =x") ->
    'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'"""
    return f'invalid argument "{value}" for "{flag}" flag: {message}'


# ------------------------------------------------------------------ names
def validate_container_name(name: str) -> str:
    """Return the name without its optional leading '/'.

    Daemon-side (docker run exits 125):
      Invalid container name (NAME), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed
    (one-character names and a leading '_', '.', '-' are rejected; '/ab' is ok).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or "\n" in name:
        raise InvalidArgument(f"Invalid container name ({name}), only {NAME_CHARS} are allowed")
    return name[1:] if name.startswith("/") else name


def validate_network_name(name: str) -> str:
    """Docker 20.10 accepts any non-empty network name ('bad/name', 'a b', 'x:y',
    '.x' all create fine). The API rejects "" with `invalid name: `; the
    docker CLI instead prints `network with name  already exists`, because the
    daemon resolves "" to the default network before its duplicate check. Docker
    answers 500 for it (an untyped libnetwork error)."""
    if not isinstance(name, str) or name == "":
        raise UntypedInvalid(f"invalid name: {name if isinstance(name, str) else ''}")
    return name


_LEFT = (
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome",
    "beautiful", "blissful", "bold", "boring", "brave", "busy", "charming", "clever",
    "cool", "compassionate", "competent", "confident", "cranky", "crazy", "dazzling",
    "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated",
    "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant",
    "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious",
    "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
    "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind",
    "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
    "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful",
    "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing",
    "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy",
    "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty",
    "trusting", "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly",
    "wonderful", "xenodochial", "youthful", "zealous", "zen",
)
_RIGHT = (
    "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen",
    "bartik", "bell", "bhabha", "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta",
    "brattain", "burnell", "cannon", "carson", "cerf", "chandrasekhar", "clarke", "curie",
    "darwin", "davinci", "dijkstra", "dirac", "easley", "einstein", "elion", "engelbart",
    "euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galileo",
    "gauss", "goldberg", "goodall", "hamilton", "hawking", "heisenberg", "hodgkin",
    "hopper", "hypatia", "jackson", "johnson", "kepler", "khorana", "knuth", "kowalevski",
    "lalande", "lamarr", "leakey", "lovelace", "lumiere", "margulis", "mayer", "mccarthy",
    "mcclintock", "meitner", "mendel", "mirzakhani", "morse", "newton", "nobel", "noether",
    "pare", "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy",
    "raman", "ramanujan", "ride", "ritchie", "rosalind", "sammet", "shannon", "shockley",
    "sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing",
    "varahamihira", "villani", "wescoff", "wiles", "williams", "wilson", "wing",
    "wozniak", "wright", "yalow", "yonath",
)


def generate_name(taken: set[str] | frozenset[str] = frozenset(),
                  rng: random.Random | None = None, attempts: int = 6) -> str:
    """A Docker-style `adjective_surname` not in `taken` (never boring_wozniak).
    Like Docker, retries after the first add a random digit. Falls back to a
    longer random suffix if every attempt collides."""
    rng = rng or random.SystemRandom()
    for retry in range(attempts):
        while True:
            name = f"{rng.choice(_LEFT)}_{rng.choice(_RIGHT)}"
            if name != "boring_wozniak":  # Steve Wozniak is not boring
                break
        if retry > 0:
            name += str(rng.randrange(10))
        if name not in taken:
            return name
    while True:
        name = f"{rng.choice(_LEFT)}_{rng.choice(_RIGHT)}{rng.randrange(10**6)}"
        if name not in taken:
            return name


# ------------------------------------------------------------------ key=value flags
def parse_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """One -e/--env value -> the string stored in Config.Env.

    "K=V" is kept as is; "K" takes K's value from `environ` ("K=value") or
    stays "K" when unset (as docker). Client-side, exit 125:
      invalid environment variable: TEXT      (empty name: "", "=x")
    """
    key = text.split("=", 1)[0]
    if key == "":
        raise _client(f"invalid environment variable: {text}")
    if "=" in text:
        return text
    if environ is not None and key in environ:
        return f"{key}={environ[key]}"
    return text


def parse_label(text: str) -> tuple[str, str]:
    """-l/--label "k=v" -> ("k", "v"); "k" -> ("k", ""). Client-side, exit 125:
      invalid label 'TEXT': empty name
      label 'KEY' contains whitespaces
    """
    key, _, value = text.partition("=")
    stripped = key.lstrip(" \t")
    if stripped == "":
        raise _client(f"invalid label '{text}': empty name")
    if any(c in stripped for c in " \t"):
        raise _client(f"label '{stripped}' contains whitespaces")
    return key, value


def parse_opt(text: str) -> tuple[str, str]:
    """-o/--opt driver option "k=v" -> ("k", "v"); "k" -> ("k", ""). Docker does
    not validate these ("=x" gives ("", "x")); "a=b=c" -> ("a", "b=c")."""
    key, _, value = text.partition("=")
    return key, value


def parse_kv_list(items: list[str], parse=parse_label) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        k, v = parse(item)
        out[k] = v
    return out


def parse_add_host(text: str) -> tuple[str, str]:
    """--add-host "name:ip" -> ("name", "ip"). Split at the first ':' so
    "foo:::1" is ("foo", "::1"); "host-gateway" is accepted as the address.
    Client-side, exit 125:
      bad format for add-host: "TEXT"            (no ':' or empty name)
      invalid IP address in add-host: "ADDR"
    """
    name, sep, addr = text.partition(":")
    if not sep or name == "":
        raise _client(f'bad format for add-host: "{text}"')
    if addr != "host-gateway":
        try:
            ipaddress.ip_address(addr.strip())
        except ValueError:
            raise _client(f'invalid IP address in add-host: "{addr}"') from None
        if "%" in addr:
            raise _client(f'invalid IP address in add-host: "{addr}"')
    return name, addr


# ------------------------------------------------------------------ ports
@dataclass(frozen=True)
class PortMapping:
    port: int           # container port
    proto: str          # tcp | udp | sctp
    host_ip: str = ""   # "" = all addresses
    host_port: str = ""  # "" = ephemeral, "8080", or a range "8080-8081"

    @property
    def key(self) -> str:
        """The HostConfig.PortBindings / ExposedPorts key, e.g. "80/tcp"."""
        return f"{self.port}/{self.proto}"


def _split_host_port(hostport: str) -> str:
    """Go net.SplitHostPort, returning host or raising ValueError(go message)."""
    i = hostport.rfind(":")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError(f"address {hostport}: missing ']' in address")
        if end + 1 == len(hostport):
            raise ValueError(f"address {hostport}: missing port in address")
        if end + 1 != i:
            why = "too many colons in address" if hostport[end + 1] == ":" else "missing port in address"
            raise ValueError(f"address {hostport}: {why}")
        host, j, k = hostport[1:end], 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise ValueError(f"address {hostport}: too many colons in address")
    if "[" in hostport[j:]:
        raise ValueError(f"address {hostport}: unexpected '[' in address")
    if "]" in hostport[k:]:
        raise ValueError(f"address {hostport}: unexpected ']' in address")
    return host


def _port_range(text: str) -> tuple[int, int]:
    def one(s: str) -> int:
        if not s.isdigit() or not s.isascii() or int(s) > 65535:
            raise ValueError(s)
        return int(s)
    if "-" not in text:
        p = one(text)
        return p, p
    parts = text.split("-")
    start, end = one(parts[0]), one(parts[1])
    if end < start:
        raise ValueError(text)
    return start, end


def parse_port(spec: str) -> list[PortMapping]:
    """-p/--publish spec -> one PortMapping per container port (Docker's
    nat.ParsePortSpec): "80", "8080:80", "127.0.0.1:8080:80/udp",
    "127.0.0.1::80", "[::1]:8080:80", "8090-8091:90-91", "8080-8081:80"
    (a host range for one container port stays a range, "8080-8081").
    The protocol is lower-cased; "80/" means tcp.
    Client-side errors (`docker: MESSAGE.`, exit 125):
      Invalid ip address: IP
      Invalid ip address IP: address IP:: too many colons in address   (Go SplitHostPort)
      No port specified: SPEC<empty>
      Invalid containerPort: P
      Invalid hostPort: P
      Invalid ranges specified for container and host Ports: C and H
      Invalid proto: PROTO
    """
    parts = spec.split(":")
    n = len(parts)
    container = parts[-1]
    if n == 1:
        ip, host = "", ""
    elif n == 2:
        ip, host = "", parts[0]
    else:
        ip, host = ":".join(parts[:n - 2]), parts[n - 2]
    # protocol
    pp = container.split("/")
    if container == "" or pp[0] == "":
        proto, container = "", ""
    elif len(pp) == 1 or pp[1] == "":
        proto, container = "tcp", pp[0]
    else:
        proto, container = pp[1], pp[0]
    if ip:
        try:
            ip = _split_host_port(ip + ":")
        except ValueError as e:
            raise _client(f"Invalid ip address {ip}: {e}") from None
    if ip:
        try:
            ipaddress.ip_address(ip)
            if "%" in ip:
                raise ValueError(ip)
        except ValueError:
            raise _client(f"Invalid ip address: {ip}") from None
    if container == "":
        raise _client(f"No port specified: {spec}<empty>")
    try:
        start, end = _port_range(container)
    except ValueError:
        raise _client(f"Invalid containerPort: {container}") from None
    hstart = hend = 0
    if host:
        try:
            hstart, hend = _port_range(host)
        except ValueError:
            raise _client(f"Invalid hostPort: {host}") from None
        if end - start != hend - hstart and end != start:
            raise _client(f"Invalid ranges specified for container and host Ports: {container} and {host}")
    if proto.lower() not in ("tcp", "udp", "sctp"):
        raise _client(f"Invalid proto: {proto}")
    proto = proto.lower()
    out = []
    for i in range(end - start + 1):
        hp = str(hstart + i) if host else ""
        if start == end and hstart != hend:
            hp = f"{hp}-{hend}"
        out.append(PortMapping(start + i, proto, ip, hp))
    return out


def _go_parse_uint16(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def parse_expose(text: str) -> list[str]:
    """--expose "80", "80/udp", "7000-7001" -> ExposedPorts keys, as the docker CLI
    expands them ("7000/tcp", "7001/tcp"). Client-side errors:
      invalid port format for --expose: TEXT
      invalid range format for --expose: TEXT, error: GO ERROR
    """
    if ":" in text:
        raise _client(f"invalid port format for --expose: {text}")
    parts = text.split("/")
    proto, port = ("", "") if not text or not parts[0] else \
        ("tcp", text) if len(parts) == 1 else ("tcp", parts[0]) if not parts[1] else (parts[1], parts[0])
    try:
        if not port:
            raise ValueError("Empty string specified for ports.")
        if "-" not in port:
            start = end = _go_parse_uint16(port)
        else:
            a, b = port.split("-")[:2]
            start, end = _go_parse_uint16(a), _go_parse_uint16(b)
            if end < start:
                raise ValueError(f"Invalid range specified for the Port: {port}")
    except ValueError as e:
        raise _client(f"invalid range format for --expose: {text}, error: {e}") from None
    return [f"{n}/{proto}" for n in range(start, end + 1)]


def go_json_kind(value) -> str:
    """How Go's encoding/json names a JSON value in an UnmarshalTypeError
    ("cannot unmarshal string into ..."); shared by the API's and the engine's decoders."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ------------------------------------------------------------------ CLI-side checks of `run`
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]*)"
_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_REFERENCE = re.compile(rf"^((?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::([\w][\w.-]{{0,127}}))?"
                        rf"(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}}))?$")


def image_reference(text: str) -> str:
    """An image reference checked as the docker CLI checks it (distribution/reference's
    ParseAnyReference); returns it as Docker names it ("busybox:latest"). Errors carry
    Docker's text: "invalid reference format: repository name must be lowercase"."""
    if re.fullmatch(r"[a-f0-9]{64}", text):
        return text  # a full image id
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        remainder = rest
    else:
        remainder = text
    if remainder.split(":", 1)[0].lower() != remainder.split(":", 1)[0]:
        raise ValueError("invalid reference format: repository name must be lowercase")
    m = _REFERENCE.match(text)
    if m is None:
        if not text:
            raise ValueError("repository name must have at least one component")
        if _REFERENCE.match(text.lower()):
            raise ValueError("repository name must be lowercase")
        raise ValueError("invalid reference format")
    if len(m.group(1)) > 255:
        raise ValueError("repository name must not be more than 255 characters")
    return text if (m.group(2) or m.group(3)) else text + ":latest"


def valid_mac(text: str) -> bool:
    """Go's net.ParseMAC: 6, 8 or 20 bytes as xx:xx.., xx-xx.. or xxxx.xxxx.."""
    for sep in (":", "-"):
        parts = text.split(sep)
        if len(parts) in (6, 8, 20) and all(re.fullmatch(r"[0-9a-fA-F]{2}", p) for p in parts):
            return True
    parts = text.split(".")
    return len(parts) in (3, 4, 10) and all(re.fullmatch(r"[0-9a-fA-F]{4}", p) for p in parts)


_LOCALHOST = re.compile(r"((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1)$)")


def localhost_dns_warning(servers) -> str | None:
    """The docker CLI's warning for the first loopback --dns server (its regexp, unanchored)."""
    for ip in servers:
        if _LOCALHOST.search(ip):
            return f"WARNING: Localhost DNS setting (--dns={ip}) may fail in containers."
    return None
