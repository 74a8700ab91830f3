"""Living beside Docker's iptables rules.

When Docker runs, the iptables FORWARD chain (iptables-nft: table ``ip
filter``) has policy DROP, and with br_netfilter even frames bridged between two
ports of one minidocker bridge traverse it. An nftables packet must be accepted
by every base chain on a hook, so our own table cannot override that drop.
Docker reserves the DOCKER-USER chain for exactly this; we insert a few plain
iifname/oifname rules there (translatable, so ``iptables -L`` keeps working),
tagged with the comment ``minidocker`` so we can find and replace exactly ours.
Isolation between minidocker networks, icc and internal stay enforced by our
own table, which sees the same packets. Traffic from our bridges towards
Docker's bridges is handed back (``return``) to Docker's own rules.

If DOCKER-USER does not exist but FORWARD's policy is DROP (some other
firewall), the accepts go at the top of FORWARD instead. Docker's policy and
its own rules are never changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from minidocker.firewall import libnft

COMMENT = "minidocker"
FILTER = "ip filter"
DOCKER_BRIDGES = ("docker0", "br-*")  # Docker's default bridge names


def render_rules(bridges: list[str], chain: str | None) -> list[str]:
    """Rule bodies (in order) to put at the top of ``chain`` for our bridges."""
    if not chain:
        return []
    tag = f'comment "{COMMENT}"'
    rules = []
    for b in bridges:
        q = f'"{b}"'
        if chain == "DOCKER-USER":
            rules.append(f"iifname {q} oifname {q} accept {tag}")
            rules += [f'iifname {q} oifname "{d}" return {tag}' for d in DOCKER_BRIDGES]
        rules.append(f"iifname {q} accept {tag}")
        rules.append(f"oifname {q} accept {tag}")
    return rules


@dataclass
class Plan:
    chain: str | None = None
    deletes: list[tuple[str, int]] = field(default_factory=list)  # (chain, handle)
    rules: list[str] = field(default_factory=list)

    def delete_script(self) -> str:
        return "".join(f"delete rule {FILTER} {_chain_ref(c)} handle {h}\n" for c, h in self.deletes)

    def insert_script(self) -> str:
        # "insert" puts a rule at the head: insert in reverse to keep our order.
        return "".join(f"insert rule {FILTER} {_chain_ref(self.chain)} {r}\n" for r in reversed(self.rules))


def _chain_ref(name: str) -> str:
    # nft 1.0.6 takes DOCKER-USER unquoted (and refuses it quoted)
    return name


def choose_chain(chains: dict[str, dict]) -> str | None:
    """Where our accepts must go, given ip filter's chains (name -> chain JSON)."""
    if "DOCKER-USER" in chains:
        return "DOCKER-USER"
    fwd = chains.get("FORWARD")
    if fwd and fwd.get("hook") == "forward" and fwd.get("policy") == "drop":
        return "FORWARD"
    return None


def plan(bridges: list[str]) -> Plan:
    """Read ``ip filter`` now: which of our rules to delete, which to insert where."""
    objs = libnft.list_json(f"table {FILTER}")
    if not objs:
        return Plan()
    chains = {o["chain"]["name"]: o["chain"] for o in objs if "chain" in o}
    deletes = [(o["rule"]["chain"], o["rule"]["handle"]) for o in objs
               if "rule" in o and o["rule"].get("comment") == COMMENT]
    chain = choose_chain(chains)
    return Plan(chain=chain, deletes=deletes, rules=render_rules(bridges, chain))
