"""The daemon's HTTP API on a unix socket: framing (with fd passing), the
client the CLI uses, the routes and the server (minidockerd).
"""
