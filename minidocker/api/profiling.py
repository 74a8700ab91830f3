"""Per-request profiles for finding where the daemon's time goes (a developer's tool).

With MINIDOCKER_PROFILE=DIR set in the daemon's environment, every request is run
under cProfile (on its own thread: cProfile sees only that one) and its profile is
written to DIR/<sequence>-<method>-<path>.prof, next to a one-line wall time in
DIR/requests.tsv. Read them with `python -m pstats` or merge a range with
pstats.Stats(*files). Off (nothing imported, nothing done) when the variable is unset.
"""
import itertools
import os
import re
import threading
import time

_DIR = os.environ.get("MINIDOCKER_PROFILE", "")
_SEQ = itertools.count(1)
_LOCK = threading.Lock()


def enabled() -> bool:
    return bool(_DIR)


def _slug(target: str) -> str:
    path = target.split("?", 1)[0]
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")[:80]


def run(method: str, target: str, fn) -> None:
    """Call ``fn()`` under cProfile and keep its profile (see the module doc)."""
    import cProfile
    os.makedirs(_DIR, exist_ok=True)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    try:
        prof.runcall(fn)
    finally:
        wall = (time.perf_counter() - t0) * 1000
        with _LOCK:
            seq = next(_SEQ)
        name = f"{seq:06d}-{method}-{_slug(target)}"
        prof.dump_stats(os.path.join(_DIR, name + ".prof"))
        with _LOCK, open(os.path.join(_DIR, "requests.tsv"), "a") as f:
            f.write(f"{seq}\t{method}\t{target}\t{wall:.2f}\t{threading.active_count()}\n")
