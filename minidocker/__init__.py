"""minidocker: Docker single-host networking on raw Linux primitives."""
__version__ = "0.1.0"  # keep in step with pyproject.toml's version
