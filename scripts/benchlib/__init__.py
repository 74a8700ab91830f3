"""scripts/bench's parts: one module per group of rows (see scripts/bench).

Free of minidocker imports: it drives both daemons through their CLIs, so the
same code measures minidocker and Docker.
"""
