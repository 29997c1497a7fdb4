"""Use cases of the users service: commands from the API and the event consumer, run against the ports in
`ports.py` with optimistic concurrency (`writes.py`). Knows no framework, store or broker."""
