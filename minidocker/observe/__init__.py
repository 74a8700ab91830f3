"""Seeing the network: scapy probes, the reachability policy (`network check`)
and the topology graph.
"""
