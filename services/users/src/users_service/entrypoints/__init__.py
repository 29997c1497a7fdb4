"""Entry points: the HTTP API, the event consumer, the composition root and the command line."""
