"""minidocker: Docker single-host networking on raw Linux primitives."""
