"""Issue 10, item 6: the CLI messages around networks as Docker 20.10 prints them
(measured on the oracle with /usr/bin/docker), from our CLI and from the docker CLI
against minidockerd."""
import pytest

from .dockerhelp import Docker


@pytest.fixture
def docker(cli, tmp_path):
    return Docker(cli, tmp_path)


def both(cli, docker, *args):
    """(minidocker's result, docker's result), the program name in messages made alike."""
    a, b = cli(*args), docker(*args)
    return ((a.returncode, a.stdout, a.stderr.replace("minidocker", "docker")),
            (b.returncode, b.stdout, b.stderr))


def err(cli, docker, *args) -> tuple[int, str]:
    """Exit code and stderr, the same from both CLIs."""
    a, b = both(cli, docker, *args)
    assert (a[0], a[2]) == (b[0], b[2]), (a, b)
    return b[0], b[2]


def test_connect_shared_namespace_containers(cli, docker):
    cli.ok("network", "create", "un")
    cli.ok("run", "-d", "--name", "hc", "--network", "host", "busybox", "sleep", "60")
    cli.ok("run", "-d", "--name", "nc", "--network", "none", "busybox", "sleep", "60")
    cli.ok("run", "-d", "--name", "uc", "--network", "un", "busybox", "sleep", "60")
    cli.ok("run", "-d", "--name", "cc", "--network", "container:uc", "busybox", "sleep", "60")
    shared = ("Error response from daemon: container sharing network namespace with another container or host "
              "cannot be connected to any other network\n")
    private = ("Error response from daemon: container cannot be connected to multiple networks with one of the "
               "networks in private (none) mode\n")
    hostmsg = "Error response from daemon: container cannot be disconnected from host network or connected to host network\n"
    for net in ("un", "bridge", "none"):
        assert err(cli, docker, "network", "connect", net, "hc") == (1, shared)
    assert err(cli, docker, "network", "connect", "host", "hc") == (
        1, "Error response from daemon: endpoint with name hc already exists in network host\n")
    assert err(cli, docker, "network", "connect", "--alias", "zz", "un", "hc") == (1, shared)
    assert err(cli, docker, "network", "disconnect", "host", "hc") == (1, hostmsg)
    for net in ("un", "bridge"):
        assert err(cli, docker, "network", "connect", net, "nc") == (1, private)
    assert err(cli, docker, "network", "connect", "host", "nc") == (1, hostmsg)
    assert err(cli, docker, "network", "connect", "none", "nc") == (
        1, "Error response from daemon: endpoint with name nc already exists in network none\n")
    for net in ("un", "bridge", "host", "none"):
        assert err(cli, docker, "network", "connect", net, "cc") == (1, shared)
    cc = cli.ok("inspect", "-f", "{{.Id}}", "cc").strip()
    for net in ("host", "none"):
        assert err(cli, docker, "network", "disconnect", net, "cc") == (
            1, f"Error response from daemon: container {cc} is not connected to network {net}\n")
    assert err(cli, docker, "network", "connect", "--alias", "zz", "bridge", "uc") == (
        1, "Error response from daemon: network-scoped alias is supported only for containers in user defined networks\n")
    assert err(cli, docker, "network", "connect", "--ip", "172.17.0.77", "bridge", "uc") == (
        1, "Error response from daemon: user specified IP address is supported on user defined networks only\n")


def test_run_network_flag_errors(cli, docker):
    cli.ok("run", "-d", "--name", "base", "busybox", "sleep", "60")
    alias = "docker: network-scoped aliases are only supported for user-defined networks.\nSee 'docker run --help'.\n"
    for mode in ("host", "none", "bridge", "container:base"):
        assert err(cli, docker, "run", "--rm", "--network", mode, "--network-alias", "x", "busybox", "true") == (125, alias)
    # (Docker refuses these at start, minidockerd at create: the texts around the message differ)
    ipmsg = "docker: Error response from daemon: user specified IP address is supported on user defined networks only"
    for mode in ("none", "bridge"):
        for code, _, text in both(cli, docker, "run", "--rm", "--network", mode, "--ip", "1.2.3.4", "busybox", "true"):
            assert code == 125 and text.startswith(ipmsg)
    # container: takes --ip (and ignores it), as Docker 20.10 does
    for run in (cli, docker):
        assert run("run", "--rm", "--network", "container:base", "--ip", "1.2.3.4", "busybox", "true").returncode == 0


def test_run_cli_side_checks(cli, docker):
    assert err(cli, docker, "run", "--rm", "--mac-address", "notamac", "busybox", "true") == (
        125, "docker: notamac is not a valid mac address.\nSee 'docker run --help'.\n")
    lower = "docker: invalid reference format: repository name must be lowercase.\nSee 'docker run --help'.\n"
    assert err(cli, docker, "run", "--rm", "BusyBox", "true") == (125, lower)
    assert err(cli, docker, "run", "--rm", "Bad/Name", "true") == (125, lower)
    warn = "WARNING: Localhost DNS setting (--dns=127.0.0.2) may fail in containers.\n"
    for run in (cli, docker):
        p = run("run", "--rm", "--dns", "10.0.0.1", "--dns", "127.0.0.2", "--dns", "::1", "busybox", "true")
        assert p.returncode == 0 and p.stderr == warn, p


def test_run_pull(cli, docker):
    for run in (cli, docker):
        for how in ("never", "missing"):
            assert run("run", "--rm", "--pull", how, "busybox", "true").returncode == 0
    assert err(cli, docker, "run", "--rm", "--pull", "never", "nosuchimage", "true") == (
        125, "docker: Error response from daemon: No such image: nosuchimage:latest.\nSee 'docker run --help'.\n")
    code, text = err(cli, docker, "run", "--rm", "--pull", "always", "busybox", "true")
    assert code == 125 and text.startswith("docker: Error response from daemon: ")
    code, text = err(cli, docker, "run", "--rm", "--pull", "missing", "nosuchimage", "true")
    assert code == 125 and text.startswith("Unable to find image 'nosuchimage:latest' locally\n"
                                           "docker: Error response from daemon: ")


def test_rm_carries_on_past_missing(cli, docker):
    for run in (cli, docker):
        run("run", "-d", "--name", "r1", "busybox", "true")
        run("run", "-d", "--name", "r2", "busybox", "true")
        run("wait", "r1", "r2")
        p = run("rm", "r1", "nosuch", "r2")
        assert p.returncode == 1 and p.stdout == "r1\nr2\n", p
        assert p.stderr.replace("minidocker", "docker") == "Error: No such container: nosuch\n", p
        run("network", "create", "n1")
        run("network", "create", "n2")
        p = run("network", "rm", "n1", "nosuch", "n2")
        assert p.returncode == 1 and p.stdout == "n1\nn2\n", p
        assert p.stderr.replace("minidocker", "docker") == "Error: No such network: nosuch\n", p


def test_ps_filters_as_docker(cli, docker):
    """Each filter's answer as Docker 20.10 gave it for the same four containers."""
    cli.ok("run", "-d", "--name", "f1", "-l", "app=web", "-p", "28099:80", "--expose", "9000", "busybox", "sleep", "60")
    assert cli("run", "--name", "f2", "-l", "app=db", "busybox", "sh", "-c", "exit 3").returncode == 3
    cli.ok("run", "--name", "f3", "busybox", "true")
    docker.ok("create", "--name", "f4", "busybox", "true")
    cases = [
        (["-a", "exited=3"], "f2"), (["-a", "exited=0"], "f3"), (["exited=3"], ""),
        (["-a", "status=exited"], "f3 f2"), (["status=exited"], "f3 f2"), (["-a", "status=created"], "f4"),
        (["-a", "label=app"], "f2 f1"), (["-a", "label=app=web"], "f1"), (["label=app"], "f1"),
        (["-a", "publish=80"], ""), (["-a", "publish=28099"], "f1"), (["-a", "publish=28099/tcp"], "f1"),
        (["-a", "publish=28090-28100"], "f1"), (["-a", "publish=80/udp"], ""),
        (["-a", "expose=9000"], "f1"), (["-a", "expose=80"], "f1"), (["-a", "expose=8000-9999"], "f1"),
        (["-a", "expose=80/sctp"], ""),
        (["-a", "health=none"], "f4 f3 f2 f1"), (["-a", "health=healthy"], ""), (["-a", "volume=/x"], ""),
        (["-a", "is-task=false"], "f4 f3 f2 f1"), (["-a", "is-task=true"], ""),
        (["-a", "before=f3"], "f2 f1"), (["before=f3"], "f1"), (["-a", "since=f2"], "f4 f3"), (["since=f2"], ""),
        (["-a", "ancestor=busybox"], "f4 f3 f2 f1"), (["-a", "ancestor=nosuch"], ""),
        (["-a", "network=bridge"], "f4 f3 f2 f1"), (["-a", "name=f[12]"], "f2 f1"),
    ]
    for run in (cli, docker):
        for args, want in cases:
            flags = [a for a in args if a == "-a"] + ["--filter", args[-1], "--format", "{{.Names}}"]
            assert run.ok("ps", *flags).split() == want.split(), (run, args)
    for value, msg in [
        ("exited=x", 'strconv.Atoi: parsing "x": invalid syntax'),
        ("status=bogus", "Invalid filter 'status=bogus'"),
        ("publish=1:2", "filter for 'publish' should not contain ':': 1:2"),
        ("publish=abc", 'error while looking up for publish abc: strconv.ParseUint: parsing "abc": invalid syntax'),
        ("health=bogus", "Unrecognised filter value for health: bogus"),
        ("is-task=x", "Invalid filter 'is-task=[x]'"),
        ("before=nosuch", "no such container nosuch"),
        ("bogus=1", "Invalid filter 'bogus'"),
    ]:
        assert err(cli, docker, "ps", "-a", "--filter", value) == (1, f"Error response from daemon: {msg}\n"), value


def test_network_ls_and_prune_filters(cli, docker):
    for run in (cli, docker):
        run.ok("network", "create", "--label", "keep=1", "pk")
        run.ok("network", "create", "pg")
        assert run.ok("network", "ls", "--filter", "label=keep", "--format", "{{.Name}}") == "pk\n"
        assert run.ok("network", "ls", "--filter", "label=keep=1", "--format", "{{.Name}}") == "pk\n"
        assert run.ok("network", "prune", "-f", "--filter", "until=1h") == ""  # none is an hour old
        assert run.ok("network", "prune", "-f", "--filter", "label=nosuch") == ""
        assert run.ok("network", "prune", "-f", "--filter", "label!=keep") == "Deleted Networks:\npg\n\n"
        assert run.ok("network", "prune", "-f", "--filter", "label=keep=1") == "Deleted Networks:\npk\n\n"
    assert err(cli, docker, "network", "prune", "-f", "--filter", "bogus=1") == (
        1, "Error response from daemon: Invalid filter 'bogus'\n")
    assert err(cli, docker, "network", "ls", "--filter", "until=1h") == (
        1, "Error response from daemon: Invalid filter 'until'\n")
