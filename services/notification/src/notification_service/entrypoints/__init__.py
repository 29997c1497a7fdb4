"""Entry points: the composition root (``bootstrap``), the FastAPI app factory (health, metrics), the bus
consumer's handler and ``python -m``."""
