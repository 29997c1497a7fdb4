"""Gateway entry points: the FastAPI app factory, public routes, middleware and request dependencies."""
