"""HTTP routes, the event consumer and the composition root (`bootstrap`) of the order service."""
