"""Real servers for Gigstack's test suites (PostgreSQL, MariaDB, Redis, RabbitMQ, FerretDB, OpenSearch, SMTP catcher)."""
