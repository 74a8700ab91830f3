"""The daemon's HTTP API on a unix socket: framing (HTTP with fd passing, both
ends), the client the CLI uses, the router and its routes per resource
(translate only: one Engine call each), and the server (minidockerd).
"""
