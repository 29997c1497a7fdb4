"""Auth entrypoints: the HTTP API (FastAPI routers and the ``create_app`` factory), the lifespan hooks that
own the database engine and the outbox relay, and the command line (serve, migrate)."""
