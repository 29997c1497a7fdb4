"""The template `scripts/new_service.py` renders: a MongoDB + events service and its own manifests."""
