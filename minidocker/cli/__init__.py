"""The minidocker command: click commands, output formatting, Go templates (template/),
shell completion.

A client of the daemon's API only: imports the standard library, click and
minidocker.api.client, never the engine or the kernel-facing packages.
"""
