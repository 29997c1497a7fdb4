"""Mail catcher: a real SMTP server that keeps every message, with a JSON API and a small HTML list.

Used by integration tests (through the ``mail_catcher`` fixture) and by ``make up`` (SMTP 1025, web 1080).
Run it with ``python -m gigstack_testinfra.mailcatcher --smtp-port 1025 --http-port 1080 --data-dir DIR``.
"""
