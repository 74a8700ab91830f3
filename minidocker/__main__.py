"""`python -m minidocker ...` is the `minidocker` command."""
from .cli import main

main()
