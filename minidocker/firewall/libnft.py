"""A minimal ctypes binding to libnftables (the library behind the `nft` tool).

``run(script)`` hands a whole nft script to the kernel as ONE netlink batch:
either every command in it takes effect or none does. Output and error text are
captured in memory (nft_ctx_buffer_output/error) instead of going to stdout.

The netlink socket is opened when the context is created, in the network
namespace of the calling thread. The daemon's own context is made at start-up
and kept (``open_context``); other namespaces get one per call. libnftables
waits on that socket with select(), whose fd_set aborts the whole process
("bit out of range 0 - FD_SETSIZE on fd_set") when the socket's number is 1024 or
more, as it was in a daemon holding a thousand containers' descriptors.
"""
import ctypes
import json
import os
import re
import threading

from minidocker.errors import KernelError

# enum nft_output_flags (libnftables.h)
OUTPUT_HANDLE = 1 << 3
OUTPUT_JSON = 1 << 4

_lib = None
_lib_lock = threading.Lock()
_run_lock = threading.Lock()
_home: list = []  # [(network namespace inode, its context)]: the daemon's own, kept


def _load():
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        try:
            lib = ctypes.CDLL("libnftables.so.1", use_errno=True)
        except OSError as e:
            raise KernelError(f"nftables: cannot load libnftables.so.1: {e}") from e
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.restype = None
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_output.restype = ctypes.c_int
        lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.restype = ctypes.c_int
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.restype = None
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_filename.restype = ctypes.c_int
        lib.nft_run_cmd_from_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        _lib = lib
        return lib


def run(script: str, flags: int = 0) -> str:
    """Run an nft script in one transaction; return nft's output text.

    Raises KernelError carrying nft's own error message when the kernel (or
    nft's parser) refuses it; in that case nothing in the script was applied.
    """
    lib = _load()
    with _run_lock:
        netns = _netns()
        kept = _home and _home[0][0] == netns
        ctx = _home[0][1] if kept else _new_context(lib)
        try:
            lib.nft_ctx_output_set_flags(ctx, flags)
            rc = _run_script(lib, ctx, script)
            out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode(errors="replace")  # (and rewound)
            err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode(errors="replace")
        finally:
            if not kept:
                lib.nft_ctx_free(ctx)
    if rc != 0:
        raise KernelError("nftables: " + (_clean(err) or f"command failed ({rc})"))
    return out


def open_context() -> None:
    """Make the context of the calling thread's namespace now, while the process's
    descriptor numbers are still small, and keep it (the daemon calls this first
    thing). Other namespaces get a context per call; one kept context at most, so
    no namespace is held alive by a forgotten socket."""
    lib = _load()
    with _run_lock:
        netns = _netns()
        if _home and _home[0][0] == netns:
            return
        if _home:
            lib.nft_ctx_free(_home.pop()[1])
        _home.append((netns, _new_context(lib)))


def _netns() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


def _new_context(lib) -> int:
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        raise KernelError("nftables: cannot create context")
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)
    return ctx


def _run_script(lib, ctx, script: str) -> int:
    """Multi-line scripts go through an in-memory file: nft 1.0.6 points its
    error messages at the wrong line when given a buffer, but gets files right."""
    if "\n" not in script.rstrip("\n"):
        return lib.nft_run_cmd_from_buffer(ctx, script.encode())
    fd = os.memfd_create("minidocker.nft", os.MFD_CLOEXEC)
    try:
        os.write(fd, script.encode())
        return lib.nft_run_cmd_from_filename(ctx, f"/proc/self/fd/{fd}".encode())
    finally:
        os.close(fd)


def _clean(err: str) -> str:
    # "/proc/self/fd/7:3:17-27: Error: ..." -> "line 3:17-27: Error: ..."
    return re.sub(r"/proc/self/fd/\d+:", "line ", err).strip()


def list_json(what: str) -> list[dict] | None:
    """``nft -j -a list <what>`` as the list of JSON objects, or None when the
    object does not exist (or cannot be listed)."""
    try:
        out = run(f"list {what}", OUTPUT_JSON | OUTPUT_HANDLE)
    except KernelError:
        return None
    if not out.strip():
        return []
    return json.loads(out).get("nftables", [])
