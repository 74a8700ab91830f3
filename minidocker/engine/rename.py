"""`docker rename` (POST /containers/{id}/rename?name=), as Docker 20.10's
daemon/rename.go: the checks in its order and words, then the new name in the
state and on the embedded DNS of every user network the container runs on (the
old name stops resolving there at once). The container's own hostname and the
/etc/hosts files are left as they are, as Docker leaves them."""
from minidocker import validation
from minidocker.engine.events import container_attributes
from minidocker.errors import Conflict, InvalidArgument, MinidockerError


def rename(e, ref: str, new_name: str):
    if not ref or not new_name:
        raise InvalidArgument("Neither old nor new names may be empty")
    wanted = new_name if new_name.startswith("/") else "/" + new_name
    with e.lock:
        c = e.find_container(ref)
        old = c.name
        if "/" + old == wanted:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        try:
            name = validation.validate_container_name(wanted)
        except MinidockerError as ex:
            raise InvalidArgument(f"Error when allocating new name: {ex.message}") from None
        for other in e.containers.values():
            if other.name == name and other.id != c.id:
                raise Conflict(f'Error when allocating new name: Conflict. The container name "/{name}" is '
                               f'already in use by container "{other.id}". You have to remove (or rename) '
                               'that container to be able to reuse that name.')
        c.name = name
        try:
            e.store.save_container(c)
        except BaseException:
            c.name = old
            raise
        _rename_dns(e, c)
        e.events.emit("container", "rename", c.id, container_attributes(c, oldName="/" + old))
        return c


def _rename_dns(e, c) -> None:
    """The name table's entries of a running container, under its new name."""
    if c.status != "running":
        return
    for ep in c.eps():
        net = e.networks.get(ep.network_id)
        if net is None or net.builtin or not ep.ip:
            continue
        names = [c.id[:12], c.hostname] + [a for a in ep.aliases if a != c.id[:12]]
        e.dns_table.set_endpoint(net.id, net.name, c.id, c.name, ep.ip, names)
