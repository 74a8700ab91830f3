"""A container's /etc/hostname, /etc/hosts and /etc/resolv.conf.

The rendering lives in one place, ``minidocker/etcfiles.py``; this module keeps
the runtime's names for it. The files live in the bundle dir and are
bind-mounted into the container, rewritten *in place* (same inode).
"""
from ..etcfiles import (DEFAULT_DNS, DEFAULT_HOSTS, container_hosts, embedded_resolv_conf,  # noqa: F401
                        filter_host_resolv_conf, host_names, parse_resolv_conf, render_hosts,
                        render_resolv_conf, write_etc_files, write_in_place)


def embedded_dns_resolv_conf(host_text: str = "") -> str:
    """127.0.0.11 + ndots:0 keeping the host's search domains and its other
    options (a host ``ndots`` is replaced by ``ndots:0``)."""
    host = parse_resolv_conf(host_text)
    opts = [o for o in host["options"] if not o.startswith("ndots:")]
    return embedded_resolv_conf(host_text, search=host["search"] or (), options=opts)
