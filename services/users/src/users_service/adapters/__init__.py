"""Adapters: the MongoDB-compatible profile store and applied-events ledger (PyMongo's async client),
restricted to what MongoDB, DocumentDB and FerretDB v1 all support (no transactions, `$sample`, `$lookup`)."""
