"""Kernel-facing networking: ipam (pure), netlink, namespaces, sysctl, and the
network drivers (drivers/) that plumb bridges and veths.
"""
