"""Gateway adapters: Redis session store, Redis rate limiter (``limits``), HS256 access tokens and the
downstream HTTP client that carries per-request internal tokens to the internal services."""
