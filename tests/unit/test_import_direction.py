"""Imports point one way (DESIGN.md, "The house"):

    cli -> api client  ⇢  api server -> engine -> {drivers, firewall, dns, runtime, observe}
        -> netlink / namespaces / sysctl

Every `import` and `from ... import` in minidocker/, at module level or inside a
function, is checked against the layer its module lives in. A new module lands in
the layer of its package; an arrow pointing the wrong way fails here.
"""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[2] / "minidocker"

LEAVES = ("minidocker.errors", "minidocker.ids", "minidocker.explain", "minidocker.validation", "minidocker.faults",
          "minidocker.readiness")
KERNEL = ("minidocker.network.netlink", "minidocker.network.rtnl", "minidocker.network.ctnl",
          "minidocker.network.link_delete", "minidocker.network.namespaces", "minidocker.network.sysctl")
PLUMBING = ("minidocker.network.drivers", "minidocker.network.netns", "minidocker.firewall",
            "minidocker.dns", "minidocker.runtime", "minidocker.observe")

# layer (module prefix; the longest one that matches wins) -> what its modules may
# import from minidocker besides the leaves.
ALLOWED = {
    "minidocker.errors": (),
    "minidocker.ids": (),
    "minidocker.explain": (),
    "minidocker.validation": (),
    "minidocker.faults": (),
    "minidocker.readiness": (),
    "minidocker.__main__": ("minidocker.cli",),
    "minidocker.cli": ("minidocker.cli", "minidocker.api.client", "minidocker.api.framing"),
    "minidocker.api.client": ("minidocker.api.client", "minidocker.api.framing"),
    "minidocker.api.framing": ("minidocker.api.framing",),
    "minidocker.api": ("minidocker.api", "minidocker.engine"),
    "minidocker.engine": ("minidocker.engine", "minidocker.network.ipam") + PLUMBING,
    "minidocker.network.drivers": ("minidocker.network.drivers",) + KERNEL,
    "minidocker.network.netns": ("minidocker.network.netns",) + KERNEL,
    "minidocker.firewall": ("minidocker.firewall",) + KERNEL,
    "minidocker.dns": ("minidocker.dns",) + KERNEL,
    "minidocker.runtime": ("minidocker.runtime",) + KERNEL,
    "minidocker.observe": ("minidocker.observe",) + KERNEL,
    "minidocker.network.netlink": KERNEL,
    "minidocker.network.rtnl": KERNEL,
    "minidocker.network.ctnl": KERNEL,
    "minidocker.network.link_delete": KERNEL,
    "minidocker.network.namespaces": KERNEL,
    "minidocker.network.sysctl": KERNEL,
    "minidocker.network.ipam": ("minidocker.network.ipam",),
}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports(mod: str, path: pathlib.Path):
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from minidocker.x import y` may name a module y: check the full name
            for a in node.names:
                yield node.lineno, f"{target}.{a.name}"


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _layer(mod: str) -> str:
    return max((p for p in ALLOWED if _within(mod, (p,))), key=len)


def _violations():
    out = []
    for mod, path in _modules():
        if mod in ("minidocker", "minidocker.network"):
            continue  # package docstrings only
        layer = _layer(mod)
        ok = LEAVES + ALLOWED[layer]
        for line, name in _imports(mod, path):
            if not name.startswith("minidocker.") or _within(name, ok):
                continue
            out.append(f"{path.relative_to(PKG.parent)}:{line}: {mod} ({layer}) imports {name}")
    return out


def test_every_module_has_a_layer():
    for mod, _ in _modules():
        if mod not in ("minidocker", "minidocker.network"):
            assert _layer(mod), mod


def test_imports_point_one_way():
    assert _violations() == []


@pytest.mark.parametrize("mod,target,allowed", [
    ("minidocker.cli.main", "minidocker.engine.core.Engine", False),
    ("minidocker.cli.main", "minidocker.api.client.Client", True),
    ("minidocker.api.client", "minidocker.api.server.main", False),
    ("minidocker.dns.embedded", "minidocker.engine.models.Container", False),
    ("minidocker.network.drivers.bridge", "minidocker.network.netlink.create_bridge", True),
    ("minidocker.network.netlink", "minidocker.network.drivers.bridge.join", False),
    ("minidocker.engine.sandbox", "minidocker.network.netlink.set_up_in", False),
    ("minidocker.engine.sandbox", "minidocker.network.namespaces.create_netns", False),
    ("minidocker.engine.core", "minidocker.network.ipam.choose_pool", True),
    ("minidocker.engine.core", "minidocker.api.server.main", False),
])
def test_rule_examples(mod, target, allowed):
    ok = LEAVES + ALLOWED[_layer(mod)]
    assert _within(target, ok) is allowed
