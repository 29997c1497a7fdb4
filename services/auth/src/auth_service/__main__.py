"""``python -m auth_service [serve | migrate]``."""

from auth_service.entrypoints.cli import main

if __name__ == "__main__":
    main()
