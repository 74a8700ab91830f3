"""`python -m minidocker ...` is the `minidocker` command."""
from minidocker.cli.main import main

main()
