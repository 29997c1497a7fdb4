"""HTTP routes, the event consumers, the CLI and the composition root (`bootstrap`) of the review service."""
