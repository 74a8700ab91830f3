"""Kernel-facing networking: ipam (pure), netlink, namespaces, sysctl, netns (a
sandbox's namespace and the host's, as the Engine needs them), and the network
drivers (drivers/: the protocol, a registry by name, bridge, host, null).
"""
