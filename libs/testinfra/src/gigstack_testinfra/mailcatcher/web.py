"""JSON API and HTML list over the message store."""

from __future__ import annotations

import html

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .store import MessageStore


def build_web_app(store: MessageStore) -> Starlette:
    async def list_messages(request: Request) -> JSONResponse:
        return JSONResponse([m.as_json() for m in store.all()])

    async def get_message(request: Request) -> Response:
        message = store.get(request.path_params["message_id"])
        if message is None:
            error = {"code": "not_found", "message": "no such message"}
            return JSONResponse({"error": error}, status_code=404)
        return JSONResponse(message.as_json())

    async def clear_messages(request: Request) -> Response:
        store.clear()
        return Response(status_code=204)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "messages": len(store.all())})

    async def index(request: Request) -> HTMLResponse:
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>body</summary>"
            "<pre>{}</pre></details></td></tr>".format(
                html.escape(m.received_at),
                html.escape(m.sender),
                html.escape(", ".join(m.to)),
                html.escape(m.subject),
                html.escape(m.text or m.html),
            )
            for m in reversed(store.all())
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Gigstack mail catcher</title>"
            "<style>body{font-family:sans-serif}td{border-bottom:1px solid #ddd;padding:4px;"
            "vertical-align:top}</style></head><body><h1>Gigstack mail catcher</h1>"
            "<p>JSON: <a href='/api/messages'>/api/messages</a> (DELETE to clear)</p>"
            f"<table><tr><th>received</th><th>from</th><th>to</th><th>subject</th><th></th></tr>{rows}"
            "</table></body></html>"
        )
        return HTMLResponse(page)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/health", health),
            Route("/api/messages", list_messages, methods=["GET"]),
            Route("/api/messages", clear_messages, methods=["DELETE"]),
            Route("/api/messages/{message_id}", get_message, methods=["GET"]),
        ]
    )
