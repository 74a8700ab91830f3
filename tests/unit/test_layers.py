"""Imports point one way: the Engine decides and never touches the kernel's
netlink, namespaces or sysctl itself; it goes through network.drivers and
network.netns (and uses network.ipam, which is pure)."""
import ast
import pathlib

import minidocker

PACKAGE = pathlib.Path(minidocker.__file__).parent
KERNEL = ("minidocker.network.netlink", "minidocker.network.namespaces", "minidocker.network.sysctl")


def imported_modules(path: pathlib.Path) -> set[str]:
    """Every module a file imports, anywhere in it (functions too), as dotted names;
    ``from a.b import c`` counts as both ``a.b`` and ``a.b.c``."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_engine_never_imports_the_kernel_layer():
    files = sorted((PACKAGE / "engine").rglob("*.py"))
    assert files
    wrong = {f"{f.relative_to(PACKAGE)} imports {m}" for f in files for m in imported_modules(f)
             if any(m == k or m.startswith(k + ".") for k in KERNEL)}
    assert not wrong, sorted(wrong)


def test_the_check_sees_from_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from minidocker.network import netlink\n")
    assert "minidocker.network.netlink" in imported_modules(probe)
