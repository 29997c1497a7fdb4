"""Auth entrypoints: the composition root (``bootstrap``), the HTTP API (FastAPI routers, the error table and
the ``create_app`` factory) and the command line (serve, migrate)."""
