"""The Engine: state and every decision (networks, containers, sandboxes, IPAM
use, /etc files, images, Docker-shaped views). It calls drivers, the firewall,
the DNS server and the runtime; never netlink or namespaces itself.
"""
