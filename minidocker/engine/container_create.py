"""Create a container from Docker's create body: name, image, command, the
network mode (own namespace on a network, host, none, or another container's)
and its endpoint, the /etc files; state saved last."""
import os
import shutil

from minidocker import faults
from minidocker import validation
from minidocker.engine import create_spec, netmode, resources, restart_policy, verb_options, volume_verbs
from minidocker.engine.events import container_attributes
from minidocker.engine.models import Container
from minidocker.errors import Conflict, InvalidArgument
from minidocker.ids import new_id, now
from minidocker.runtime import exec as runexec

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def create(verbs, body: dict, name: str = "") -> Container:
    """`POST /containers/create` with Docker's body (create_spec.py): validated,
    then the container and its endpoint made; nothing is left if a step fails."""
    cfg = create_spec.parse(body, name or (body.get("Name") if isinstance(body, dict) else "") or "")
    restart_policy.check(cfg["RestartPolicy"], cfg["AutoRemove"])  # settings first, as Docker checks them
    res = resources.from_create(body.get("HostConfig") or {})
    e = verbs.e
    with e.lock:
        name = (cfg.get("Name") or "").lstrip("/")
        if name:
            validation.validate_container_name(name)
            for other in e.containers.values():
                if other.name == name:
                    raise Conflict(f'Conflict. The container name "/{name}" is already in use by container '
                                   f'"{other.id}". You have to remove (or rename) that container to be able to reuse that name.')
        else:
            taken = {c.name for c in e.containers.values()}
            name = validation.generate_name()
            while name in taken:
                name = validation.generate_name()
        image = cfg["Image"]
        if not image:
            raise InvalidArgument("Config cannot be empty in order to create a container")
        img = e.images.get(image)
        workdir = cfg["WorkingDir"] or img.get("WorkingDir") or ""  # (a committed image's)
        if workdir and not workdir.startswith("/"):
            raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
        entrypoint = cfg["Entrypoint"]
        if entrypoint is not None and not [a for a in entrypoint if a]:  # --entrypoint "": none at all
            entrypoint = []
        elif entrypoint is None and img.get("Entrypoint"):
            entrypoint = list(img["Entrypoint"])
        if cfg["StopSignal"]:
            verb_options.check_stop_signal(cfg["StopSignal"])
        cmd = cfg["Cmd"] if cfg["Cmd"] else (None if entrypoint else img.get("Cmd"))
        cmd = None if (cfg["Entrypoint"] and not cfg["Cmd"]) else cmd
        argv = list(entrypoint or []) + list(cmd or [])
        if not argv:
            raise InvalidArgument("No command specified")
        points = volume_verbs.parse(cfg)
        mode = cfg["NetworkMode"]
        _check_mode_conflicts(mode, cfg, cfg["PortBindings"])
        net_request = netmode.request(cfg)
        cid = new_id()
        c = Container(id=cid, name=name, created=now(), image=image, image_id=img["Id"],
                      argv=argv, entrypoint=entrypoint or None, cmd=list(cmd) if cmd else None,
                      env=runexec.merge_env(img.get("Env") or [DEFAULT_PATH], cfg["Env"]),
                      workdir=workdir, hostname=cfg["Hostname"] or cid[:12],
                      tty=cfg["Tty"], open_stdin=cfg["OpenStdin"], stdin_once=cfg["StdinOnce"],
                      attach=cfg["Attach"], auto_remove=cfg["AutoRemove"],
                      dns=cfg["Dns"], dns_search=cfg["DnsSearch"], dns_options=cfg["DnsOptions"],
                      extra_hosts=cfg["ExtraHosts"],
                      exposed_ports={**(img.get("ExposedPorts") or {}), **cfg["ExposedPorts"]},
                      port_bindings=cfg["PortBindings"], publish_all=cfg["PublishAllPorts"],
                      labels=cfg["Labels"], mac_address=cfg["MacAddress"],
                      restart_policy=restart_policy.normal(cfg["RestartPolicy"]), binds=cfg["Binds"],
                      mounts=points, host_mounts=cfg["Mounts"], tmpfs=cfg["Tmpfs"],
                      readonly_rootfs=cfg["ReadonlyRootfs"], config_volumes=cfg["Volumes"], resources=res)
        verb_options.apply(c, cfg)
        if mode == "host":
            c.hostname = cfg["Hostname"] or os.uname().nodename
        netmode.place(e, c, net_request)  # what only start can settle waits for it
        undo_volumes = volume_verbs.prepare(e, points)
        e.containers[cid] = c
        try:  # (no /etc files yet: the first start writes them, as Docker's)
            e.store.save_container(c)
            faults.point("create.state")
        except BaseException:
            e.containers.pop(cid, None)
            shutil.rmtree(e.store.bundle(cid), ignore_errors=True)
            for step in reversed(undo_volumes):
                step()
            raise
        e.events.emit("container", "create", c.id, container_attributes(c))
        return c


def _check_mode_conflicts(mode: str, cfg: dict, ports: dict) -> None:
    if mode.startswith("container:"):
        checks = [("Hostname", "conflicting options: hostname and the network mode"),
                  ("Dns", "conflicting options: dns and the network mode"),
                  ("ExtraHosts", "conflicting options: custom host-to-IP mapping and the network mode"),
                  ("MacAddress", "conflicting options: mac-address and the network mode"),
                  ("ExposedPorts", "conflicting options: port exposing and the container type network mode")]
        if ports or cfg.get("PublishAllPorts"):
            raise InvalidArgument("conflicting options: port publishing and the container type network mode")
        for key, msg in checks:
            if cfg.get(key):
                raise InvalidArgument(msg)
        # an --ip with container: is taken and ignored, as Docker 20.10 does
