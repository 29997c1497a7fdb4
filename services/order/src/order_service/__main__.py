"""``python -m order_service``: serve the app and run its event workers."""

from servicekit.http import run_service

from order_service.settings import OrderSettings


def main() -> None:
    run_service("order_service.entrypoints.app:create_app", OrderSettings())


if __name__ == "__main__":
    main()
