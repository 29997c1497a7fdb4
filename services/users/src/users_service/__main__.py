"""``python -m users_service [serve | backfill FILE]``."""

from users_service.entrypoints.cli import main

if __name__ == "__main__":
    main()
