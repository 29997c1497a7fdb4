"""``python -m review_service [serve | migrate | backfill FILE|-]``."""

from review_service.entrypoints.cli import main

if __name__ == "__main__":
    main()
