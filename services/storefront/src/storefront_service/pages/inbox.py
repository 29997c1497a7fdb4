"""Inbox pages: conversations, one conversation with live messages, text and file messages, custom offers
(the seller sends; the buyer accepts or declines; the seller withdraws) and read receipts.

URLs: ``/inbox`` (conversations, cursor paging), ``/inbox/with/{username}`` (the conversation with a user,
also before its first message: "Contact seller" links here), ``/inbox/with/{username}/messages?after=<seq>``
(server-rendered <li>s for static/js/conversation.js), ``POST /inbox/messages``, ``POST /inbox/offers``,
``POST /inbox/offers/{offer_id}`` (respond), ``POST /inbox/c/{id}/read``.

Only the two participants can see a conversation: the chat service answers 404 to anyone else, which the app
shows as the 404 page. Message text is data: Jinja2 escapes it; nothing here marks it safe.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from storefront_service.gateway_client import GatewayError
from storefront_service.pages.trade_common import (
    FormErrors,
    file_names,
    parse_int,
    parse_money,
    signed_in_user,
)
from storefront_service.web import DepsDep, SessionDep, form_error, redirect, render

router = APIRouter()

PAGE_SIZE = 50
CATCH_UP_PAGES = 4  # a reconnecting page fetches at most 200 messages; beyond that it is told to reload
LINK_LOOKUP_PAGES = 4
OFFER_RESPONSES = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _conversation_url(username: str) -> str:
    """The conversation page of a form's ``username`` (quoted: a form value never leaves this path)."""
    return f"/inbox/with/{quote(username, safe='')}" if username else "/inbox"


def _valid_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c == "-" for c in value)


@router.get("/inbox")
async def conversations(
    request: Request, deps: DepsDep, session: SessionDep, cursor: str | None = None
) -> Response:
    signed_in_user(session)
    # The unread-messages email links to /inbox?conversation=<id>: open that conversation.
    wanted = request.query_params.get("conversation", "")
    if _valid_id(wanted):
        username = await _username_in(deps, session, wanted)
        if username:
            return redirect(_conversation_url(username))
    page = await deps.gateway.call(
        "chat.conversations", query={"cursor": cursor, "limit": 20}, session=session
    )
    return render(
        request,
        "inbox/list.html",
        {"conversations": page["items"], "next_cursor": page.get("next_cursor"), "cursor": cursor},
    )


async def _username_in(deps: Any, session: Any, conversation_id: str) -> str | None:
    """The other user's name in one of my conversations, looked up in my latest ones (an email's link is
    recent); None when it is not among them (the inbox is shown instead)."""
    cursor: str | None = None
    for _ in range(LINK_LOOKUP_PAGES):
        page = await deps.gateway.call(
            "chat.conversations", query={"cursor": cursor, "limit": PAGE_SIZE}, session=session
        )
        for conversation in page["items"]:
            if conversation["id"] == conversation_id:
                username: str | None = (conversation.get("other_user") or {}).get("username")
                return username
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return None


async def _seller_gigs(deps: Any, user_id: str) -> list[dict[str, Any]]:
    """The signed-in user's live gigs (an offer names one); none for a user who does not sell."""
    try:
        listing = await deps.gateway.call("gigs.bySeller", path={"seller_id": user_id})
    except GatewayError:
        return []
    items: list[dict[str, Any]] = listing.get("items", [])
    return items


def _offer_defaults(gigs: list[dict[str, Any]]) -> dict[str, str]:
    return {
        "offer_gig_id": gigs[0]["id"] if gigs else "",
        "offer_delivery_days": "3",
        "offer_expires_days": "3",
    }


async def _render_conversation(
    request: Request,
    deps: Any,
    session: Any,
    username: str,
    *,
    before: str | None = None,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    user = signed_in_user(session)
    conversation = await deps.gateway.call(
        "chat.conversationWith", path={"username": username}, session=session
    )
    other = conversation.get("other_user") or {}
    if other.get("id") == user.id:
        return redirect("/inbox")
    messages: list[dict[str, Any]] = []
    older: str | None = None
    if conversation.get("started"):
        page = await deps.gateway.call(
            "chat.messages",
            path={"conversation_id": conversation["id"]},
            query={"before": before, "limit": PAGE_SIZE},
            session=session,
        )
        messages = list(reversed(page["items"]))  # newest first from chat; shown oldest first
        older = page.get("next_cursor")
        if conversation.get("unread_count") and before is None and messages:
            await _mark_read(deps, session, conversation["id"], messages[-1]["seq"])
    gigs = await _seller_gigs(deps, user.id)
    context = {
        "file_names": await file_names(deps.redis, [m.get("file_key") or "" for m in messages]),
        "conversation": conversation,
        "other": other,
        "messages": messages,
        "older_cursor": older,
        "me": user.id,
        "gigs": gigs,
        "values": _offer_defaults(gigs),
        **(extra or {}),
    }
    return render(request, "inbox/conversation.html", context, status_code=status_code)


async def _mark_read(deps: Any, session: Any, conversation_id: str, up_to_seq: int) -> None:
    with contextlib.suppress(GatewayError):  # a receipt is best effort: the next view marks it
        await deps.gateway.call(
            "chat.markRead",
            path={"conversation_id": conversation_id},
            json={"up_to_seq": up_to_seq},
            session=session,
        )


@router.get("/inbox/with/{username}")
async def conversation_with(
    username: str, request: Request, deps: DepsDep, session: SessionDep, before: str | None = None
) -> Response:
    return await _render_conversation(request, deps, session, username, before=before)


@router.get("/inbox/with/{username}/messages")
async def messages_fragment(
    username: str, request: Request, deps: DepsDep, session: SessionDep, after: int = 0
) -> Response:
    """Messages after seq ``after``, oldest first, as the <li>s of the conversation page (for the live page).

    Addressed by the other user's name like the page itself, so no URL can name someone else's conversation.
    """
    user = signed_in_user(session)
    conversation = await deps.gateway.call(
        "chat.conversationWith", path={"username": username}, session=session
    )
    items: list[dict[str, Any]] = []
    cursor = str(max(after, 0))
    for _ in range(CATCH_UP_PAGES if conversation.get("started") else 0):
        page = await deps.gateway.call(
            "chat.messages",
            path={"conversation_id": conversation["id"]},
            query={"after": cursor, "limit": PAGE_SIZE},
            session=session,
        )
        items.extend(page["items"])
        if len(page["items"]) < PAGE_SIZE:
            break
        cursor = str(page["items"][-1]["seq"])
    return render(
        request,
        "inbox/_messages.html",
        {
            "messages": items,
            "me": user.id,
            "other": conversation.get("other_user") or {},
            "file_names": await file_names(deps.redis, [m.get("file_key") or "" for m in items]),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.post("/inbox/c/{conversation_id}/read")
async def mark_read(conversation_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    errors = FormErrors()
    up_to = parse_int(_text(await request.form(), "up_to_seq") or "0", "up_to_seq", errors, low=0, high=2**53)
    await deps.gateway.call(
        "chat.markRead",
        path={"conversation_id": conversation_id},
        json={"up_to_seq": up_to} if up_to else {},
        session=session,
    )
    return Response(status_code=204)


@router.post("/inbox/messages")
async def send_message(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    form = await request.form()
    username = _text(form, "username")
    conversation_id, recipient_id = _text(form, "conversation_id"), _text(form, "recipient_id")
    text, file_key = _text(form, "text"), _text(form, "file_key")
    values = {"text": text}
    body: dict[str, Any] = {"kind": "file" if file_key else "text", "text": text}
    if file_key:
        body["file_key"] = file_key
    if conversation_id and _valid_id(conversation_id):
        body["conversation_id"] = conversation_id
    elif recipient_id and _valid_id(recipient_id):
        body["recipient_id"] = recipient_id
    else:
        return redirect("/inbox", request)
    if not text and not file_key:
        return await _render_conversation(
            request,
            deps,
            session,
            username,
            extra={"send_values": values, "send_errors": {"text": "Write a message or attach a file."}},
            status_code=400,
        )
    try:
        await deps.gateway.call("chat.send", json=body, session=session)
    except GatewayError as error:
        if error.status_code == 404 or not username:
            raise
        context = form_error(error)
        return await _render_conversation(
            request,
            deps,
            session,
            username,
            extra={
                "send_values": values,
                "send_error": context["error"],
                "send_errors": context["field_errors"],
            },
            status_code=error.status_code,
        )
    return redirect(f"{_conversation_url(username)}#message-form" if username else "/inbox", request)


@router.post("/inbox/offers")
async def send_offer(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    form = await request.form()
    username, conversation_id = _text(form, "username"), _text(form, "conversation_id")
    if not _valid_id(conversation_id) or not username:
        return redirect("/inbox", request)
    names = ("offer_gig_id", "offer_description", "offer_price", "offer_delivery_days", "offer_expires_days")
    values = {name: _text(form, name) for name in names}
    errors = FormErrors()
    if not values["offer_gig_id"]:
        errors.add("offer_gig_id", "Choose the gig this offer is for.")
    if not values["offer_description"]:
        errors.add("offer_description", "Describe what the buyer gets.")
    price = parse_money(values["offer_price"], "offer_price", errors)
    days = parse_int(values["offer_delivery_days"], "offer_delivery_days", errors, low=1, high=365)
    expires_days = parse_int(values["offer_expires_days"], "offer_expires_days", errors, low=1, high=30)
    if errors:
        return await _render_conversation(
            request,
            deps,
            session,
            username,
            extra={"values": values, "offer_error": errors.context()["error"], "offer_errors": errors.fields},
            status_code=400,
        )
    expires_at = datetime.now(UTC) + timedelta(days=expires_days or 1)
    offer = {
        "gig_id": values["offer_gig_id"],
        "description": values["offer_description"],
        "price": price,
        "currency": "USD",
        "delivery_days": days,
        "expires_at": expires_at.isoformat(),
    }
    try:
        await deps.gateway.call(
            "chat.send",
            json={"conversation_id": conversation_id, "kind": "offer", "text": "", "offer": offer},
            session=session,
        )
    except GatewayError as error:
        if error.status_code == 404:
            raise
        context = form_error(error)
        offer_errors = {f"offer_{name}": message for name, message in context["field_errors"].items()}
        return await _render_conversation(
            request,
            deps,
            session,
            username,
            extra={"values": values, "offer_error": context["error"], "offer_errors": offer_errors},
            status_code=error.status_code,
        )
    session.flash("Your offer was sent.", "success")
    return redirect(_conversation_url(username), request)


@router.post("/inbox/offers/{offer_id}")
async def respond_to_offer(offer_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    form = await request.form()
    action, username = _text(form, "action"), _text(form, "username")
    back = _conversation_url(username)
    if action not in OFFER_RESPONSES:
        session.flash("That is not something you can do with an offer.", "error")
        return redirect(back, request)
    try:
        offer = await deps.gateway.call(
            "chat.respondToOffer", path={"offer_id": offer_id}, json={"action": action}, session=session
        )
    except GatewayError as error:
        if error.status_code == 404:
            raise
        # 409: it was answered, withdrawn or expired meanwhile; 403: the other party's action.
        session.flash(error.message, "error")
        return redirect(back, request)
    session.flash(f"The offer was {offer.get('status', OFFER_RESPONSES[action])}.", "success")
    if action == "accept":
        session.flash("Place the order to start: you pay on the next page.", "info")
    return redirect(back, request)
