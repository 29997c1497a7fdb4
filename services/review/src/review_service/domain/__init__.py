"""The review domain: reviews, the completed orders they are allowed on, the events they raise (no I/O)."""
