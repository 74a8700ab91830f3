import collections, os, re
def _fds(pid):
    kinds = collections.Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            t = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        t = re.sub(r"\d+", "N", t)
        t = re.sub(r"/[0-9a-f]{12,}", "/ID", t)
        kinds[t] += 1
    return kinds
def test_probe(cli):
    pid = cli.daemon.pid
    cli.ok("ps")
    a = _fds(pid)
    for i in range(20):
        cli.ok("run", "-d", "--name", f"p{i}", "busybox", "sleep", "600")
    b = _fds(pid)
    print("\nbefore", sum(a.values()), "after", sum(b.values()))
    for k in set(a) | set(b):
        if b[k] != a[k]:
            print(k, a[k], b[k])
