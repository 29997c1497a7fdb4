"""Page routers, one module per area; each exposes ``router`` (included by entrypoints/app.py)."""
