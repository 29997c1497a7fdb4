"""``python -m gateway_service``: run the gateway with uvicorn (settings from the environment)."""

from __future__ import annotations

from servicekit.http import run_service

from gateway_service.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()  # filled from the environment
    run_service("gateway_service.entrypoints.app:create_app", settings)


if __name__ == "__main__":
    main()
