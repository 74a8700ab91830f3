"""Linux namespaces through ctypes (Python 3.11 has no os.unshare/os.setns).

Network namespaces are kept alive by bind-mounting their nsfs file under the
runtime dir, as `ip netns add` does. setns() changes only the calling thread, so
work inside a namespace runs on a dedicated thread (``NetnsThread``, or
``run_in_netns`` for a single call) and the daemon's other threads never leave
the host namespace.
"""
import ctypes
import ctypes.util
import os
import queue
import threading

from minidocker import explain
from minidocker.errors import KernelError

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000

MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise KernelError(f"{what}: {os.strerror(err)}")


def _b(s):
    return None if s is None else os.fsencode(s)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source, target, fstype=None, flags=0, data=None) -> None:
    ret = _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data))
    _check(ret, f"mount {target}")


def umount(target, flags=0) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def ensure_private_dir(path: str) -> None:
    """Make ``path`` a private bind mount (as iproute2 does for /run/netns), so
    nsfs mounts made under it do not propagate into other mount namespaces."""
    os.makedirs(path, exist_ok=True)
    try:  # already a mount point (mountinfo may also list one that a later mount hides)
        mount("none", path, None, MS_PRIVATE)
    except KernelError:
        mount(path, path, None, MS_BIND)
        mount("none", path, None, MS_PRIVATE)


def _is_mountpoint(path: str) -> bool:
    """Whether the mount ``path`` resolves to is mounted at ``path`` itself: by the
    mount id of the path (fdinfo), since mountinfo also lists mounts hidden under a
    later one (a host's /run/netns under a tmpfs on /run)."""
    real = os.path.realpath(path)
    fd = os.open(real, os.O_PATH)
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            mnt_id = next(line.split()[1] for line in f if line.startswith("mnt_id:"))
    finally:
        os.close(fd)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[0] == mnt_id and line.split()[4] == real for line in f)


def _thread_ns_path(kind: str) -> str:
    return f"/proc/self/task/{threading.get_native_id()}/ns/{kind}"


class NetnsThread:
    """A dedicated thread inside one network namespace that runs the calls handed
    to it there, one at a time, while the caller waits (``run``). setns() changes
    only the calling thread, so the daemon's other threads never leave the host
    namespace; one thread serves every call of one step instead of one per call.

    With ``create`` the thread unshares a new namespace and pins it at ``path``
    (a file under a private dir, as `ip netns add` does), or, with ``path`` None,
    leaves it unpinned until ``pin``: it then lives only as long as the thread.
    Otherwise the thread enters the namespace pinned at ``path``. ``first``: called on the thread once it is in there;
    its result is ``first_result`` (no round trip of its own). Use it as a context
    manager, or call ``close``."""

    def __init__(self, path: str | None, create: bool = False, first=None):
        self.path = path
        self.first_result = None
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        if create and path is not None:
            _check_free(path)
        self._thread = threading.Thread(target=self._serve, args=(create, first, explain.current()), daemon=True,
                                        name="netns-create" if create else "in-netns")
        self._thread.start()
        ok, err = self._results.get()
        if not ok:
            self._thread.join()
            if create and not isinstance(err, KernelError):
                raise KernelError(f"create netns {path}: {err}")
            raise err
        if first is not None:
            ok, value = self._results.get()
            if not ok:
                self.close()
                raise value
            self.first_result = value

    @property
    def ident(self) -> int | None:
        """The thread's ident (calls made on it need no ``run``)."""
        return self._thread.ident

    def _enter(self, create: bool) -> None:
        if create:
            unshare(CLONE_NEWNET)
            if self.path is not None:
                self._pin(self.path)
            return
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(fd, CLONE_NEWNET)
        finally:
            os.close(fd)

    def _serve(self, create: bool, first, rec) -> None:
        try:
            self._enter(create)
        except BaseException as e:  # reported to the caller
            self._results.put((False, e))
            return
        self._results.put((True, None))
        if first is not None:
            try:
                with explain.attached(rec):
                    self._results.put((True, first()))
            except BaseException as e:  # re-raised on the caller's thread
                self._results.put((False, e))
        while (job := self._jobs.get()) is not None:
            fn, args, kwargs, rec = job
            try:
                with explain.attached(rec):
                    self._results.put((True, fn(*args, **kwargs)))
            except BaseException as e:  # re-raised on the caller's thread
                self._results.put((False, e))

    def _pin(self, path: str) -> None:
        open(path, "w").close()
        try:
            mount(_thread_ns_path("net"), path, None, MS_BIND)
        except BaseException:
            os.unlink(path)
            raise

    def pin(self, path: str) -> None:
        """Pin the unpinned namespace this thread made at ``path`` (`ip netns add`)."""
        _check_free(path)
        self.run(self._pin, path)
        self.path = path

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` inside the namespace; its result, or its exception.
        What it explains goes to the caller's --explain recorder."""
        self._jobs.put((fn, args, kwargs, explain.current()))
        ok, value = self._results.get()
        if not ok:
            raise value
        return value

    def close(self, last=None) -> None:
        """End the thread; ``last``: a call it makes first (re-raised here if it fails)."""
        if last is not None:
            self._jobs.put((last, (), {}, explain.current()))
        self._jobs.put(None)
        self._thread.join()
        if last is not None:
            ok, value = self._results.get()
            if not ok:
                raise value

    def __enter__(self) -> "NetnsThread":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _check_free(path: str) -> None:
    explain.emit("ip", "netns", "add", os.path.basename(path))
    if os.path.exists(path):
        raise KernelError(f"network namespace {os.path.basename(path)} already exists")


def create_netns(path: str) -> None:
    """Create a new network namespace pinned at ``path`` (a file under a private dir)."""
    NetnsThread(path, create=True).close()


def delete_netns(path: str) -> None:
    """Unpin a network namespace; it vanishes once no process or socket holds it."""
    if not os.path.exists(path):
        return
    explain.emit("ip", "netns", "delete", os.path.basename(path))
    try:
        umount(path, MNT_DETACH)
    except KernelError:
        pass
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise KernelError(f"remove netns pin {path}: {e.strerror}") from None


def run_in_netns(path: str | None, fn, *args, **kwargs):
    """Run ``fn`` on a fresh thread that has entered the netns at ``path``
    (``None`` means the caller's own namespace). Returns fn's result or re-raises."""
    if path is None:
        return fn(*args, **kwargs)
    with NetnsThread(path) as t:
        return t.run(fn, *args, **kwargs)
