"""``python -m storefront_service``: run the storefront with uvicorn (settings from the environment)."""

from __future__ import annotations

from servicekit.http import run_service

from storefront_service.settings import StorefrontSettings


def main() -> None:
    settings = StorefrontSettings()  # filled from the environment
    run_service("storefront_service.entrypoints.app:create_app", settings)


if __name__ == "__main__":
    main()
