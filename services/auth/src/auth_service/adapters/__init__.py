"""Auth adapters: MariaDB tables and repositories (SQLAlchemy 2 async + asyncmy), the SQL unit of work
with its transactional outbox, argon2id hashing, random token generation and the migration runner."""
