"""Gateway entry points: the composition root (``bootstrap``), the FastAPI app factory, public routes,
middleware, the error table and request dependencies."""
