"""``python -m order_service [serve | migrate | backfill FILE|-]``."""

from order_service.entrypoints.cli import main

if __name__ == "__main__":
    main()
