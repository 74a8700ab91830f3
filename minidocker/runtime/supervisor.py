"""One supervisor for every container of a run dir: a fork server and subreaper.

Run as ``python -I -S supervisor.py RUN_DIR`` by the daemon (its own session; it
outlives the daemon). Single-threaded; stdlib only. It imports launcher.py's
container-building functions once, then serves a SOCK_SEQPACKET socket
``RUN_DIR/supervisor.sock`` (one marshalled dict per packet, fds by SCM_RIGHTS):

  {"op": "hello"}            -> {"pid": P, "start_time": T}
  {"op": "start", "spec": S} -> {"ok": launch pid} | {"error": text}
     (+ fds; S as launcher.py reads it, its fd numbers those of S["passed"])
  {"op": "list"}             -> {"containers": {init pid: bundle}}
  {"op": "close"}            -> {"exiting": bool}  (exits if it supervises nothing)

For a start it forks a child that does what launcher.main does in mode "run"
(unshare NEWPID, fork the init that builds the container, report its pid and
start time on the sync socket) and exits. The init is then reparented to the
supervisor (PR_SET_CHILD_SUBREAPER), which reaps it and writes
``<bundle>/exit.json`` as the per-container shim does. It exits once it
supervises nothing and no client is connected.
"""
import array
import marshal
import os
import select
import sys
import _signal as signal
import _socket  # not socket.py: its enum import alone is ~0.8 MB of a long-lived process

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launcher  # noqa: E402  (a sibling script: -I leaves the script dir off sys.path)



def recv_fds(sock, bufsize, maxfds):
    fds = array.array("i")
    msg, anc, _flags, _addr = sock.recvmsg(bufsize, _socket.CMSG_LEN(maxfds * fds.itemsize), _socket.MSG_CMSG_CLOEXEC)
    for level, kind, data in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return msg, list(fds)


def send_fds(sock, buffers, fds):
    return sock.sendmsg(buffers, [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", fds))])


class _SocketModule:
    """What launcher.send needs of the socket module (for the pty hand-over;
    nothing can be imported after pivot_root)."""
    socket = _socket.socket
    send_fds = staticmethod(send_fds)


launcher.socket = _SocketModule
libc = launcher.libc
PR_SET_CHILD_SUBREAPER = 36
SOCK, PIDFILE, LOCK = "supervisor.sock", "supervisor.pid", "supervisor.lock"
MAX_MSG = 1 << 17
FIRST_CLIENT_WAIT = 30.0  # exit if nobody connects (a daemon that died right after starting us)


start_time = launcher.proc_start_time


def _readable(items, timeout):
    """select()'s read half on poll(): select refuses fds from 1024 on, and one
    supervisor holds a connection per client (minidocker.readiness, inlined: this
    script runs without the package)."""
    poller = select.poll()
    by_fd = {}
    for item in items:
        fd = item if isinstance(item, int) else item.fileno()
        by_fd[fd] = item
        poller.register(fd, select.POLLIN | select.POLLPRI)
    return [by_fd[fd] for fd, _ in poller.poll(None if timeout is None else int(timeout * 1000 + 0.999))]


def spawning_namespace(pin_dir):
    """An fd of a mount namespace like ours minus the network-namespace pins (one
    bind mount per container), for containers to be built from: unshare(NEWNS)
    copies every mount of the namespace it starts in, and so does the old root
    that pivot_root leaves to be unmounted, so with the pins each start cost
    grew with the number of containers (fork + unshare 4.6 ms at 100 containers,
    15 ms at 1000). The pin dir is a private mount: pins made later never
    appear in the copy. None when it cannot be made (containers then start from
    our own namespace, as before)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        ok = libc.unshare(launcher.NEWNS) == 0 and libc.umount2(pin_dir.encode(), 2) == 0  # MNT_DETACH
        os.write(w, b"1" if ok else b"0")
        import time
        time.sleep(5)  # until our parent has opened the namespace (it kills us then)
        os._exit(0)
    os.close(w)
    try:
        ok = os.read(r, 1) == b"1"
        return os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC) if ok else None
    except OSError:
        return None
    finally:
        os.close(r)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


class Supervisor:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.spawn_ns = None  # spawning_namespace(): where containers are built from
        self.listener = None
        self.clients = []
        self.launching = {}   # launch child pid -> (pipe read end, bundle)
        self.inits = {}       # container init pid -> bundle
        self.unclaimed = {}   # pid -> exit code, reaped before its launch child told us its bundle
        self.wake_r = self.wake_w = self.lock_fd = -1
        self.me = (os.getpid(), start_time(os.getpid()))

    # --- setup ---------------------------------------------------------------

    def bind(self):
        path = os.path.join(self.run_dir, SOCK)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET | _socket.SOCK_CLOEXEC)
        s.bind(path)
        os.chmod(path, 0o600)
        s.listen(64)
        self.listener = s
        tmp = os.path.join(self.run_dir, PIDFILE + ".tmp")
        with open(tmp, "w") as f:
            f.write(str(os.getpid()))
        os.replace(tmp, os.path.join(self.run_dir, PIDFILE))

    def unbind(self):
        for name in (SOCK, PIDFILE):
            try:
                os.unlink(os.path.join(self.run_dir, name))
            except FileNotFoundError:
                pass
        self.listener.close()

    # --- the loop --------------------------------------------------------------

    def serve(self):
        import time
        first_deadline = time.monotonic() + FIRST_CLIENT_WAIT
        seen_client = False
        while True:
            self.reap()
            if not self.inits and not self.launching and not self.clients:
                if seen_client or time.monotonic() > first_deadline:
                    return
            timeout = None if seen_client else max(0.0, first_deadline - time.monotonic())
            ready = _readable([self.listener, self.wake_r] + self.clients, timeout)
            for s in ready:
                if s is self.listener:
                    try:
                        conn = _socket.socket(fileno=self.listener._accept()[0])
                    except OSError:
                        continue
                    self.clients.append(conn)
                    seen_client = True
                elif s is self.wake_r:
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                elif self.serve_one(s) == "exit":
                    return

    def serve_one(self, conn):
        try:
            data, fds = recv_fds(conn, MAX_MSG, 16)
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self.drop(conn)
            return None
        try:
            msg = marshal.loads(data)
            op = msg.get("op")
            if op == "hello":
                reply = {"pid": self.me[0], "start_time": self.me[1]}
            elif op == "start":
                reply = self.start(msg["spec"], fds)
                fds = []  # closed by start() once forked
            elif op == "list":
                reply = {"containers": dict(self.inits)}
            elif op == "close":  # (an exec's helper ends with its container: waited for below)
                reply = {"exiting": not self.inits and len(self.clients) == 1}
            else:
                reply = {"error": f"unknown request {op!r}"}
        except Exception as e:  # noqa: BLE001 - a bad request must not end the supervisor
            reply = {"error": f"{type(e).__name__}: {e}"}
        for fd in fds:
            os.close(fd)
        try:
            conn.send(marshal.dumps(reply))
        except OSError:
            self.drop(conn)
            return None
        if reply.get("exiting"):
            for pid in list(self.launching):
                os.waitpid(pid, 0)
                os.close(self.launching.pop(pid)[0])
            self.drop(conn)
            return "exit"
        return None

    def drop(self, conn):
        if conn in self.clients:
            self.clients.remove(conn)
        conn.close()

    # --- starting a container ----------------------------------------------------

    def start(self, spec, fds):
        passed = spec.pop("passed")
        if len(passed) != len(fds):
            raise ValueError("file descriptors lost on the way")
        m = dict(zip(passed, fds))
        spec["sync_fd"] = m[spec["sync_fd"]]
        if spec.get("fds") is not None:
            spec["fds"] = [m[f] for f in spec["fds"]]
        if spec.get("tty_fd") is not None:
            spec["tty_fd"] = m[spec["tty_fd"]]
        if spec.get("exit_fd") is not None:
            spec["exit_fd"] = m[spec["exit_fd"]]
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            raise  # the caller closes the fds
        if pid == 0:
            code = 125
            try:
                os.close(r)
                code = self.launch(spec, w) if spec["mode"] == "run" else self.launch_exec(spec)
            except BaseException as e:  # noqa: BLE001
                try:
                    launcher.send(spec["sync_fd"], {"error": f"{type(e).__name__}: {e}", "code": 125})
                except BaseException:  # noqa: BLE001
                    pass
            os._exit(code)
        os.close(w)
        os.set_blocking(r, False)
        for fd in fds:  # the init holds the sync end now: the daemon sees its EOF, not ours
            os.close(fd)
        self.launching[pid] = (r, spec.get("bundle"))  # an exec's helper reports no init
        return {"ok": pid}

    def forget_parent(self):
        """In a forked child: nothing of the supervisor's stays open or armed."""
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        for s in [self.listener] + self.clients:
            s.close()
        for fd in (self.wake_r, self.wake_w, self.lock_fd):  # a held init must not keep our lock
            os.close(fd)
        for r, _ in self.launching.values():
            os.close(r)
        os.setsid()  # each container in a session of its own, as under its own shim

    @staticmethod
    def open_for(spec, passed, enter):
        """A launch child's first steps, for a container and for an exec alike: the
        fds it was passed are not inherited further, the host's /proc stays open
        (returned), cgroups and stdio are opened, then ``enter()``. Raises
        launcher.Fail for the caller to send to the daemon."""
        for fd in passed:
            if fd is not None:
                os.set_inheritable(fd, False)
        host_proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
        spec["cgroup_fds"] = launcher.open_cgroups(spec)
        launcher.open_stdio(spec)
        enter()
        return host_proc

    def enter_spawning(self, spec):
        """Into the spawning mount namespace and a new pid ns, the container's
        netns pin opened first (it is not in that namespace)."""
        if spec.get("netns"):
            spec["netns_fd"] = os.open(spec["netns"], os.O_RDONLY | os.O_CLOEXEC)
        if self.spawn_ns is not None:
            launcher.check(libc.setns(self.spawn_ns, launcher.NEWNS), "setns mnt")
        launcher.check(libc.unshare(launcher.NEWPID), "unshare pid")

    def launch_exec(self, spec):
        """In the forked child: launcher.main's mode "exec"; the process's exit
        code goes to ``exit_fd`` once it is gone."""
        self.forget_parent()
        sync_fd, exit_fd = spec["sync_fd"], spec["exit_fd"]
        passed = [sync_fd, exit_fd, spec.get("tty_fd")] + list(spec.get("fds") or [])
        try:
            host_proc = self.open_for(spec, passed, lambda: launcher.enter_container(spec["init_pid"]))
        except launcher.Fail as e:
            launcher.send(sync_fd, {"error": e.text, "code": e.code})
            return e.code
        pid = os.fork()
        if pid == 0:
            launcher.guarded(sync_fd, launcher.exec_child, spec, sync_fd)
        started = launcher.proc_start_time(pid, host_proc)
        os.close(host_proc)
        for fd in spec.get("cgroup_fds") or ():
            os.close(fd)
        launcher.send(sync_fd, {"pid": pid, "start_time": started})
        for fd in (set(passed) | set(spec.get("fds") or [])) - {exit_fd, None}:
            os.close(fd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        code = launcher.status_of(os.waitpid(pid, 0)[1])
        os.write(exit_fd, marshal.dumps({"exit": code}))
        return code

    def launch(self, spec, report_w):
        """In the forked child: launcher.main's mode "run", minus the waiting."""
        self.forget_parent()
        log = os.open(spec["bundle"] + "/shim.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        os.dup2(log, 2, inheritable=False)
        os.close(log)
        sync_fd = spec["sync_fd"]
        passed = [sync_fd, spec.get("tty_fd")] + list(spec.get("fds") or [])
        try:
            host_proc = self.open_for(spec, passed, lambda: self.enter_spawning(spec))
        except launcher.Fail as e:
            launcher.send(sync_fd, {"error": e.text, "code": e.code})
            return e.code
        pid = os.fork()
        if pid == 0:
            os.close(report_w)
            launcher.guarded(sync_fd, launcher.container_init, spec, sync_fd)
        started = launcher.proc_start_time(pid, host_proc)
        for fd in spec.get("cgroup_fds") or ():
            os.close(fd)
        os.write(report_w, b"%d" % pid)  # before the daemon hears of it: it may say go at once
        launcher.send(sync_fd, {"pid": pid, "start_time": started})
        return 0

    # --- reaping ---------------------------------------------------------------

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.launching:
                r, bundle = self.launching.pop(pid)
                try:
                    data = os.read(r, 32)  # written before it exited; the init keeps the pipe open
                except BlockingIOError:
                    data = b""
                os.close(r)
                if data:
                    init = int(data)
                    self.inits[init] = bundle
                    if init in self.unclaimed:
                        self.exited(init, self.unclaimed.pop(init))
            elif pid in self.inits:
                self.exited(pid, launcher.status_of(status))
            else:
                self.unclaimed[pid] = launcher.status_of(status)

    def exited(self, pid, code):
        bundle = self.inits.pop(pid)
        try:
            launcher.write_exit(bundle, code)
        except OSError as e:  # its bundle was removed under it: nobody waits for it
            sys.stderr.write(f"supervisor: exit {code} of {pid}: {e}\n")


def main():
    run_dir = sys.argv[1]
    import fcntl
    lock = os.open(os.path.join(run_dir, LOCK), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another one serves this run dir
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("supervisor: cannot become a subreaper\n")
        return 1
    for sig in (signal.SIGINT, signal.SIGHUP):  # a daemon's terminal going away must not end us
        signal.signal(sig, signal.SIG_IGN)
    sup = Supervisor(run_dir)
    sup.lock_fd = lock
    sup.spawn_ns = spawning_namespace(os.path.join(run_dir, "netns"))
    sup.wake_r, sup.wake_w = os.pipe()
    os.set_blocking(sup.wake_r, False)
    os.set_blocking(sup.wake_w, False)
    signal.set_wakeup_fd(sup.wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sup.bind()
    import gc
    gc.freeze()  # what is here now stays untouched by collections in the forked children (no copies)
    try:
        sup.serve()
    finally:
        sup.unbind()
    return 0


if __name__ == "__main__":
    sys.exit(main())
