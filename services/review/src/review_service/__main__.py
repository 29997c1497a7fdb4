"""``python -m review_service``: serve the app and run its event workers."""

from servicekit.http import run_service

from review_service.settings import ReviewSettings


def main() -> None:
    run_service("review_service.entrypoints.app:create_app", ReviewSettings())


if __name__ == "__main__":
    main()
