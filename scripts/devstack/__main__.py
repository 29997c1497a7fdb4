"""``python -m scripts.devstack up|down|status`` (run from the repository root, as the Makefile does)."""

from __future__ import annotations

import argparse

from scripts.devstack import __doc__ as usage
from scripts.devstack.stack import down, status, up


def main() -> None:
    parser = argparse.ArgumentParser(description=usage, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--services", default="gateway auth notification users gig", help="space-separated names"
    )
    parser.add_argument(
        "--observability", default="1", choices=["0", "1"], help="0: skip Prometheus, Jaeger and the rest"
    )
    args = parser.parse_args()
    if args.command == "up":
        up(args.services.split(), with_observability=args.observability == "1")
    elif args.command == "down":
        down()
    else:
        status()


if __name__ == "__main__":
    main()
