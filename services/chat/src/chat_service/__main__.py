"""``python -m chat_service``: serve the app and its workers, or ``backfill FILE`` (entrypoints/cli.py)."""

from chat_service.entrypoints.cli import main

if __name__ == "__main__":
    main()
