"""Container launcher: a tiny single-threaded program the daemon starts with
subprocess (never a fork of the threaded daemon itself).

Run as ``python -I -S launcher.py``; stdlib only, so it starts in a few ms. It
reads its spec from fd 0 (marshal: built in, so no json/re import cost) and
reports on ``sync_fd`` (a SOCK_SEQPACKET socket, close-on-exec in the
container process) one marshalled dict per packet:
``{"pid": N, "start_time": T}`` from the shim, ``{"error": text, "code": n}``
if the container process fails before exec, ``{"pty": true}`` with the pty
master attached (SCM_RIGHTS). EOF without an error means exec succeeded.

mode "run":  the launcher is the shim. unshare(CLONE_NEWPID), fork: the child is
             PID 1 of the new pid ns and builds the container (mount ns, overlay,
             /proc, /sys, /dev, /etc files, pivot_root, hostname), then execs.
             The shim waits for it, writes exit.json into the bundle and exits.
mode "exec": setns into all namespaces of the container init, fork (the pid ns
             applies to children), exec; exit with the process's status.
"""
import ctypes
import fcntl
import marshal
import os
import _signal as signal  # the C module: "signal" would import enum (~4 ms)
import sys

NEWNS, NEWUTS, NEWIPC, NEWNET, NEWPID = 0x20000, 0x4000000, 0x8000000, 0x40000000, 0x20000000
RDONLY, NOSUID, NODEV, NOEXEC, BIND, REC, PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18
DETACH = 2
REMOUNT = 32
SYS_PIVOT_ROOT = 155  # x86_64
TIOCSCTTY, TIOCSPTLCK, TIOCGPTN = 0x540E, 0x40045431, 0x80045430
GO_LOST = 137  # exit of a container init whose daemon died before it said go
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

libc = ctypes.CDLL(None, use_errno=True)
socket = None  # imported in main() only when a pty is allocated: nothing can be imported after pivot_root


class Fail(Exception):
    """A pre-exec failure, reported to the daemon as Docker would word it."""

    def __init__(self, text, code=None):
        super().__init__(text)
        self.text = text
        self.code = code if code is not None else exit_code_for(text)


def exit_code_for(text):
    # docker CLI: 127 for "not found", 126 for "permission denied", else 125
    if "executable file not found" in text or "no such file or directory" in text:
        return 127
    if "permission denied" in text:
        return 126
    return 125


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise Fail(f"{what}: {os.strerror(err).lower()}")


def mount(src, dst, fstype, flags=0, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)
    check(libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {dst}")


def send(sync_fd, msg, fds=()):
    data = marshal.dumps(msg)
    if fds:
        s = socket.socket(fileno=os.dup(sync_fd))
        try:
            socket.send_fds(s, [data], list(fds))
        finally:
            s.close()
    else:
        os.write(sync_fd, data)


# --- container filesystem -------------------------------------------------

def touch(path, mode=0o644):
    if not os.path.lexists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, mode))


def mkdirs(path, mode=0o755):
    os.makedirs(path, mode, exist_ok=True)


def build_rootfs(spec):
    b = spec["bundle"]
    upper, work, root = b + "/upper", b + "/work", b + "/merged"
    mount("none", "/", None, REC | PRIVATE)
    mount("overlay", root, "overlay", 0, f"lowerdir={spec['rootfs']},upperdir={upper},workdir={work}")
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        # before pivot_root a symlink here would lead onto the host's filesystem
        if os.path.islink(f"{root}/{d}"):
            raise Fail(f"rootfs_linux.go: /{d} in the image is a symlink, refusing to mount over it", 125)
        mkdirs(f"{root}/{d}")
    mount("proc", root + "/proc", "proc", NOSUID | NODEV | NOEXEC)
    mount("sysfs", root + "/sys", "sysfs", RDONLY | NOSUID | NODEV | NOEXEC)
    dev = root + "/dev"
    mount("tmpfs", dev, "tmpfs", NOSUID, "mode=755,size=65536k")
    for name, minor in (("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)):
        os.mknod(f"{dev}/{name}", 0o20666, os.makedev(1, minor))
        os.chmod(f"{dev}/{name}", 0o666)
    os.mknod(dev + "/tty", 0o20666, os.makedev(5, 0))
    os.chmod(dev + "/tty", 0o666)
    for d in ("pts", "shm", "mqueue"):
        mkdirs(f"{dev}/{d}")
    mount("devpts", dev + "/pts", "devpts", NOSUID | NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")
    mount("shm", dev + "/shm", "tmpfs", NOSUID | NODEV | NOEXEC, "mode=1777,size=65536k")
    mount("mqueue", dev + "/mqueue", "mqueue", NOSUID | NODEV | NOEXEC)
    for name, target in (("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    # bind the bundle's own files: the engine rewrites them in place later
    for name, src in sorted(spec.get("etc_files", {}).items()):
        dst = f"{root}/etc/{name}"
        if os.path.islink(dst):
            os.unlink(dst)
        touch(dst)
        mount(src, dst, None, BIND)
    user_mounts(root, spec.get("mounts") or ())
    if spec.get("readonly_rootfs"):
        mount(None, root, None, BIND | REMOUNT | RDONLY)
    return root


# --- volumes, binds, tmpfs (-v, --mount, --tmpfs) ---------------------------

REMOUNT = 32


def in_root(root, path):
    """``path`` inside the container's root, symlinks resolved as inside it (never
    leading out: an absolute or '..' link stays under ``root``), as securejoin."""
    parts = [p for p in path.split("/") if p]
    done = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        cand = root + "/" + "/".join(done + [part])
        if os.path.islink(cand):
            hops += 1
            if hops > 40:
                raise Fail(f"mount {path}: too many levels of symbolic links")
            link = os.readlink(cand)
            if link.startswith("/"):
                done = []
            parts = [p for p in link.split("/") if p] + parts
            continue
        done.append(part)
    return root + "/" + "/".join(done)


def user_mounts(root, mounts):
    for m in mounts:
        dst = in_root(root, m["target"])
        if m["type"] == "tmpfs":
            mkdirs(dst)
            mount("tmpfs", dst, "tmpfs", m["flags"], m["data"] or None)
            continue
        src = m["source"]
        if os.path.isdir(src):
            mkdirs(dst)
        else:
            mkdirs(os.path.dirname(dst))
            touch(dst)
        mount(src, dst, None, BIND | REC)
        if m["ro"]:
            mount(None, dst, None, BIND | REMOUNT | RDONLY)


def alloc_pty(spec, sync_fd, devpts):
    """Open a pty in the container's own devpts (so it is /dev/pts/0 inside) and
    hand the master to the daemon; returns the slave's path under devpts."""
    master = os.open(devpts + "/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(master, TIOCSPTLCK, b"\0\0\0\0")
    n = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"), sys.byteorder)
    send(sync_fd, {"pty": True}, [master])
    os.close(master)
    return n


def pivot(root):
    os.chdir(root)
    check(libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    check(libc.umount2(b".", DETACH), "umount old root")
    os.chdir("/")


# --- process --------------------------------------------------------------

def setup_stdio(spec, pty_slave_path=None):
    """Put the container's stdio on 0/1/2 (fds were opened by the caller)."""
    if pty_slave_path is not None or spec.get("tty_fd") is not None:
        os.setsid()
        fd = os.open(pty_slave_path, os.O_RDWR) if pty_slave_path else spec["tty_fd"]
        for i in range(3):
            os.dup2(fd, i)
            fcntl.ioctl(0, TIOCSCTTY, 0)
        if fd > 2:
            os.close(fd)
        return
    fds = spec["fds"]
    for i in range(3):
        os.dup2(fds[i], i)


def build_env(spec):
    env = list(spec.get("env") or [])
    keys = {e.split("=", 1)[0] for e in env}
    if "PATH" not in keys:
        env.insert(0, "PATH=" + DEFAULT_PATH)
    if spec.get("hostname") and "HOSTNAME" not in keys:
        env.append("HOSTNAME=" + spec["hostname"])
    if spec.get("tty") and "TERM" not in keys:
        env.append("TERM=xterm")
    if "HOME" not in keys:
        env.append("HOME=" + ((spec.get("user") or {}).get("home") or "/root"))
    return env


def lookup(arg0, env):
    """Resolve argv[0] as Go's exec.LookPath does (what runc reports)."""
    if "/" in arg0:
        try:
            st = os.stat(arg0)
        except OSError as e:
            raise Fail(f'exec: "{arg0}": stat {arg0}: {os.strerror(e.errno).lower()}')
        if st.st_mode & 0o170000 == 0o040000 or not st.st_mode & 0o111:
            raise Fail(f'exec: "{arg0}": permission denied')
        return arg0
    path = next((e[5:] for e in env if e.startswith("PATH=")), "")
    for d in path.split(":"):
        cand = os.path.join(d or ".", arg0)
        try:
            st = os.stat(cand)
        except OSError:
            continue
        if not (st.st_mode & 0o170000 == 0o040000) and st.st_mode & 0o111:
            return cand
    raise Fail(f'exec: "{arg0}": executable file not found in $PATH')


def switch_user(spec):
    """run -u / exec -u: the ids the daemon resolved from the container's files."""
    u = spec.get("user")
    if u:
        os.setgroups(list(u["groups"]))
        os.setgid(u["gid"])
        os.setuid(u["uid"])


def mount_init(spec, root):
    """--init: the host's static init, read-only at /sbin/docker-init (as Docker)."""
    src = spec.get("init")
    if not src:
        return
    if os.path.islink(root + "/sbin"):
        raise Fail("rootfs_linux.go: /sbin in the image is a symlink, refusing to mount docker-init", 125)
    mkdirs(root + "/sbin")
    dst = root + "/sbin/docker-init"
    if os.path.islink(dst):
        os.unlink(dst)
    touch(dst, 0o755)
    mount(src, dst, None, BIND)
    mount(None, dst, None, BIND | REMOUNT | RDONLY)


def prepare_exec(spec):
    """What runc's init does before it waits to be started: the signals back to
    their defaults, the user's ids, the environment, the command looked up.
    Returns (path, argv, environment) for the execve."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores these; exec would keep that
        signal.signal(sig, signal.SIG_DFL)
    switch_user(spec)
    env = build_env(spec)
    argv = spec["argv"]
    return lookup(argv[0], env), argv, dict(e.split("=", 1) for e in env)


def do_exec(spec):
    path, argv, env = prepare_exec(spec)
    try:
        os.execve(path, argv, env)
    except OSError as e:
        raise Fail(f'exec: "{argv[0]}": {os.strerror(e.errno).lower()}')


def exec_started(path, argv, env):
    """The execve once started: a failure now (an image's binary of another
    architecture, a script's missing interpreter) is the container's own, as
    with runc: one line on its stderr, exit code 1."""
    try:
        os.execve(path, argv, env)
    except OSError as e:
        os.write(2, f"exec {path}: {os.strerror(e.errno).lower()}\n".encode())
    os._exit(1)


def enter_cwd(spec, create):
    cwd = spec.get("cwd") or "/"
    if create:
        mkdirs(cwd)
    try:
        os.chdir(cwd)
    except OSError as e:
        raise Fail(f'chdir to cwd ("{cwd}") set in config.json failed: {os.strerror(e.errno).lower()}')


def await_go(sync_fd):
    """runc's create/start split: the command runs only once the daemon has
    recorded this process; if the daemon is gone first (EOF), it never runs."""
    try:
        data = os.read(sync_fd, 64)
    except OSError:
        data = b""
    if not data:
        os._exit(GO_LOST)


def guarded(sync_fd, fn, *args):
    """Run the pre-exec steps of a child; report any failure and exit."""
    try:
        fn(*args)
        raise Fail("exec returned")
    except Fail as e:
        send(sync_fd, {"error": e.text, "code": e.code})
        os._exit(e.code)
    except BaseException as e:  # anything unexpected still reaches the daemon
        send(sync_fd, {"error": f"{type(e).__name__}: {e}", "code": 125})
        os._exit(125)


def join_cgroups(spec):
    """Move this process into the container's cgroup (fds opened by main()
    while host paths were visible): before exec, so all it does is counted.
    On cgroup v1 the fds are ``tasks`` files, which move the calling thread: this
    process has no other (see cgroups.py)."""
    for fd in spec.get("cgroup_fds") or ():
        try:
            os.write(fd, b"0")
        except OSError as e:
            raise Fail(f"join cgroup: {os.strerror(e.errno).lower()}", 125)
        os.close(fd)


def open_cgroups(spec):
    fds = []
    for p in spec.get("cgroup_procs") or ():
        try:
            fds.append(os.open(p, os.O_WRONLY))
        except OSError as e:
            raise Fail(f"open {p}: {os.strerror(e.errno).lower()}", 125)
    return fds


def container_init(spec, sync_fd):
    join_cgroups(spec)
    if spec.get("netns_fd") is not None:  # opened by the supervisor (its pin is not in our mount ns)
        check(libc.setns(spec["netns_fd"], NEWNET), "setns net")
        os.close(spec["netns_fd"])
    elif spec.get("netns"):
        fd = os.open(spec["netns"], os.O_RDONLY)
        check(libc.setns(fd, NEWNET), "setns net")
        os.close(fd)
    check(libc.unshare(NEWNS | NEWUTS | NEWIPC), "unshare")
    root = build_rootfs(spec)
    mount_init(spec, root)
    slave = None
    if spec.get("alloc_pty"):
        slave = "/dev/pts/%d" % alloc_pty(spec, sync_fd, root + "/dev/pts")
    pivot(root)
    name = os.fsencode(spec.get("hostname") or "")
    if name:  # empty: keep the inherited one (e.g. --network=host gets the host's name)
        check(libc.sethostname(name, len(name)), "sethostname")
    os.umask(0o022)
    setup_stdio(spec, slave)
    enter_cwd(spec, create=True)
    if spec.get("await_go"):  # runc's create/start: checked and ready, then started
        prepared = prepare_exec(spec)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # not Python's KeyboardInterrupt while it waits
        send(sync_fd, {"ready": True})
        await_go(sync_fd)
        exec_started(*prepared)
    do_exec(spec)


def exec_child(spec, sync_fd):
    join_cgroups(spec)
    os.umask(0o022)  # as the container's own processes, whatever the daemon's umask
    slave = None
    if spec.get("alloc_pty"):
        slave = "/dev/pts/%d" % alloc_pty(spec, sync_fd, "/dev/pts")
    setup_stdio(spec, slave)
    enter_cwd(spec, create=False)
    do_exec(spec)


def enter_container(pid):
    fds = [(os.open(f"/proc/{pid}/ns/{k}", os.O_RDONLY), k) for k in ("ipc", "uts", "net", "pid", "mnt")]
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY)
    for fd, kind in fds:
        check(libc.setns(fd, 0), "setns " + kind)
        os.close(fd)
    os.fchdir(root)
    check(libc.chroot(b"."), "chroot")
    os.close(root)


def proc_start_time(pid, proc_dir=None):
    """Field 22 of /proc/PID/stat; ``proc_dir``: an fd of the host's /proc, for a
    caller whose root may have changed."""
    opener = None if proc_dir is None else (lambda p, fl: os.open(p, fl, dir_fd=proc_dir))
    with open(f"{pid}/stat" if proc_dir is not None else f"/proc/{pid}/stat", opener=opener) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def status_of(ws):
    return os.waitstatus_to_exitcode(ws) if os.WIFEXITED(ws) else 128 + os.WTERMSIG(ws)


def open_stdio(spec):
    """Open the fds the container will get, while host paths are still visible."""
    if spec.get("tty_fd") is not None or spec.get("alloc_pty"):
        return
    fds = spec.get("fds")
    null = os.open("/dev/null", os.O_RDWR)
    if fds is None and not spec.get("log_path"):
        spec["fds"] = [null, null, null]
    elif fds is None:
        log = os.open(spec["log_path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        spec["fds"] = [null, log, log]
    elif not spec.get("stdin_open"):
        spec["fds"] = [null, fds[1], fds[2]]


def main():
    spec = marshal.loads(read_all(0))
    if spec.get("alloc_pty"):
        global socket
        import socket
    sync_fd = spec["sync_fd"]
    passed = [sync_fd, spec.get("tty_fd")] + list(spec.get("fds") or [])
    for fd in passed:
        if fd is not None:
            os.set_inheritable(fd, False)
    host_proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)  # exec chroots into the container
    try:
        spec["cgroup_fds"] = open_cgroups(spec)
        open_stdio(spec)
        if spec["mode"] == "exec":
            enter_container(spec["init_pid"])
        else:
            check(libc.unshare(NEWPID), "unshare pid")
    except Fail as e:
        send(sync_fd, {"error": e.text, "code": e.code})
        return e.code
    pid = os.fork()
    if pid == 0:
        guarded(sync_fd, exec_child if spec["mode"] == "exec" else container_init, spec, sync_fd)
    start_time = proc_start_time(pid, host_proc)
    os.close(host_proc)
    for fd in spec.get("cgroup_fds") or ():
        os.close(fd)
    send(sync_fd, {"pid": pid, "start_time": start_time})
    os.close(sync_fd)
    for fd in set(passed[1:]) | set(spec.get("fds") or []):
        if fd is not None:
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    code = status_of(os.waitpid(pid, 0)[1])
    if spec["mode"] == "run":
        write_exit(spec["bundle"], code)
    return code


def read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def write_exit(bundle, code):
    import time
    now = time.time()
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%09dZ" % int((now % 1) * 1e9)
    tmp = bundle + "/exit.json.tmp"
    with open(tmp, "w") as f:
        f.write('{"ExitCode": %d, "FinishedAt": "%s"}\n' % (code, ts))
    os.replace(tmp, bundle + "/exit.json")


if __name__ == "__main__":
    sys.exit(main())
