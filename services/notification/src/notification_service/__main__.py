"""``python -m notification_service``: serve the app (health and metrics) and consume email events."""

from servicekit.http import run_service

from notification_service.settings import NotificationSettings


def main() -> None:
    run_service("notification_service.entrypoints.app:create_app", NotificationSettings())


if __name__ == "__main__":
    main()
