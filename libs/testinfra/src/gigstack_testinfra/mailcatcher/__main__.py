"""``python -m gigstack_testinfra.mailcatcher``: SMTP and HTTP servers on one event loop."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from .store import MessageStore, parse_message
from .web import build_web_app


class CatchAllHandler:
    """aiosmtpd handler: accept every recipient, keep every message."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        recipients = [r if isinstance(r, str) else r.decode() for r in envelope.rcpt_tos]
        self.store.add(parse_message(raw, str(envelope.mail_from or ""), recipients))
        return "250 Message accepted for delivery"


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    """Advertise AUTH and accept any credentials, so senders configured with a login work unchanged."""
    return AuthResult(success=True)


async def serve(host: str, smtp_port: int, http_port: int, data_dir: Path) -> None:
    store = MessageStore(data_dir / "messages.jsonl")
    handler = CatchAllHandler(store)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="gigstack-mail-catcher",
            decode_data=False,
            authenticator=accept_any_login,
            auth_require_tls=False,
        ),
        host=host,
        port=smtp_port,
        reuse_address=True,
    )
    web = uvicorn.Server(
        uvicorn.Config(build_web_app(store), host=host, port=http_port, log_level="warning", lifespan="off")
    )
    print(f"mail catcher: SMTP {host}:{smtp_port}, web http://{host}:{http_port}/", flush=True)
    # uvicorn handles SIGTERM/SIGINT: serve() returns, then we close SMTP and the process exits.
    try:
        await web.serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP catcher with a JSON API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=1080)
    parser.add_argument("--data-dir", type=Path, default=Path(".local/mail"))
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.host, args.smtp_port, args.http_port, args.data_dir))


if __name__ == "__main__":
    main()
