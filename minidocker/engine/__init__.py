"""The Engine: state and every decision (networks, containers, sandboxes, IPAM
use, /etc files, images, Docker-shaped views). It calls the network drivers
(looked up by name), network.netns for a sandbox's namespace, the firewall, the
DNS server and the runtime; never netlink, namespaces or sysctl itself.
"""
