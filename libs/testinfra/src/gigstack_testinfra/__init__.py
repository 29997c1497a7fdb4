"""Real servers for Gigstack's test suites.

PostgreSQL, MariaDB, Redis, RabbitMQ, FerretDB (MongoDB protocol), OpenSearch and an SMTP catcher, as local
processes or containers; ``gigstack_testinfra.plugin`` exposes them as pytest fixtures and
``gigstack_testinfra.servers`` exposes the launchers to ``make up``.
"""
