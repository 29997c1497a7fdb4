"""Entry points: the FastAPI app factory (health, metrics), the bus consumer wiring and ``python -m``."""
