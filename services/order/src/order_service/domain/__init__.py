"""The order domain: aggregates, the events they raise and the errors they refuse with (no I/O)."""
