"""PostgreSQL adapters: schema, repositories, the unit of work with its outbox, and migrations."""
