"""`python -m minidocker ...` is the `minidocker` command."""
from minidocker.cli.entry import main

main()
