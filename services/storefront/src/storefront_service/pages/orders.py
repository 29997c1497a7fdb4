"""Order pages: place an order (from a gig or an accepted offer), checkout, the buyer's and the seller's order
page with its next actions, reviews, and order notifications.

URLs: ``/orders?as=buyer|seller`` (lists, paged by ``before``), ``/checkout/{gig_id}`` (the gig page's
"Continue": confirm), ``POST /orders`` (create from ``gig_id`` or ``offer_id``, then checkout),
``/orders/{id}/checkout``, ``POST /orders/{id}/pay`` (local provider: ``payments.devConfirm``),
``/orders/{id}`` (``/orders/{id}/panel`` is its live-updated part), ``POST /orders/{id}/{action}`` for
``extension``, ``extension/decision``, ``delivery``, ``approve``, ``cancel``, ``review``; ``/notifications``,
``POST /notifications/{id}/read``.

Payment: ``orders.create`` answers the PaymentIntent's client secret once; the checkout page needs it for
Stripe's Payment Element, so it is kept in the storefront's Redis under ``sf:checkout:<order id>`` (with the
buyer's id, until the order's payment window ends) and never put in a URL. The local provider needs no
secret: its "Pay" button asks the storefront, which calls ``payments.devConfirm`` (development/test only).
The order moves to in progress only when the order service has verified the payment.

Who may do what is decided by the order service (403 wrong party, 404 stranger, 409 wrong state or stale
version); these pages only offer the actions that fit, and show any refusal on the order page.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from storefront_service.gateway_client import GatewayError
from storefront_service.pages.trade_common import FormErrors, file_names, parse_int, signed_in_user
from storefront_service.web import DepsDep, SessionDep, form_error, redirect, render

logger = logging.getLogger(__name__)

router = APIRouter()

CHECKOUT_KEY = "sf:checkout:"
CHECKOUT_TTL_SECONDS = 24 * 3600
LOCAL_PROVIDERS = frozenset({"local"})
STATUS_LABELS = {
    "awaiting_payment": "Awaiting payment",
    "in_progress": "In progress",
    "delivered": "Delivered",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "expired": "Expired",
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _valid_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- lists and notifications --------------------------------------------------------------------------------


@router.get("/orders")
async def order_list(
    request: Request, deps: DepsDep, session: SessionDep, before: str | None = None
) -> Response:
    signed_in_user(session)
    # The order emails link to /orders?order_id=<id> (notification's catalogue): open that order.
    linked = request.query_params.get("order_id", "")
    if _valid_id(linked):
        return redirect(f"/orders/{linked}")
    role = request.query_params.get("as", "buyer")
    role = role if role in ("buyer", "seller") else "buyer"
    operation = "orders.asSeller" if role == "seller" else "orders.asBuyer"
    page = await deps.gateway.call(operation, query={"limit": 20, "before": before}, session=session)
    return render(
        request,
        "orders/list.html",
        {
            "role": role,
            "orders": page["orders"],
            "next_before": page.get("next_before"),
            "labels": STATUS_LABELS,
        },
    )


@router.get("/notifications")
async def notifications(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    answer = await deps.gateway.call("orders.notifications", query={"limit": 50}, session=session)
    items = answer["notifications"]
    return render(
        request,
        "orders/notifications.html",
        {"notifications": items, "unread": sum(1 for n in items if not n.get("read_at"))},
    )


@router.post("/notifications/{notification_id}/read")
async def read_notification(
    notification_id: str, request: Request, deps: DepsDep, session: SessionDep
) -> Response:
    signed_in_user(session)
    await deps.gateway.call(
        "orders.markNotificationRead", path={"notification_id": notification_id}, session=session
    )
    return redirect("/notifications", request)


# --- placing and paying -------------------------------------------------------------------------------------


@router.get("/checkout/{gig_id}")
async def confirm_gig_order(gig_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    """The gig page's "Continue": what is about to be ordered, and the POST that places it (never a GET)."""
    user = signed_in_user(session)
    gig = await deps.gateway.call("gigs.byId", path={"gig_id": gig_id}, session=session)
    if gig.get("seller_id") == user.id:
        session.flash("This is your own gig: buyers order it from this page.", "info")
        return redirect(f"/gigs/{gig_id}")
    return render(request, "orders/confirm.html", {"gig": gig})


@router.post("/orders")
async def place_order(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    form = await request.form()
    gig_id, offer_id = _text(form, "gig_id"), _text(form, "offer_id")
    username = _text(form, "username")
    if offer_id and _valid_id(offer_id):
        # Back to the conversation the offer is in (the order service may not have the acceptance yet).
        back = f"/inbox/with/{quote(username, safe='')}" if username else "/inbox"
        body = {"offer_id": offer_id}
    elif gig_id and _valid_id(gig_id):
        body, back = {"gig_id": gig_id}, f"/gigs/{gig_id}"
    else:
        session.flash("Choose a gig or an accepted offer to order.", "error")
        return redirect("/", request)
    try:
        created = await deps.gateway.call("orders.create", json=body, session=session)
    except GatewayError as error:
        # Your own gig, a paused gig, an offer not (yet) accepted: the order service says which.
        session.flash(error.message, "error")
        return redirect(back, request)
    order, payment = created["order"], created.get("payment") or {}
    record = {
        "user_id": user.id,
        "provider": payment.get("provider"),
        "client_secret": payment.get("client_secret"),
    }
    await deps.redis.set(CHECKOUT_KEY + order["id"], json.dumps(record), ex=_checkout_ttl(order))
    return redirect(f"/orders/{order['id']}/checkout", request)


def _checkout_ttl(order: dict[str, Any]) -> int:
    expires = _parse_time(order.get("expires_at"))
    if expires is None:
        return CHECKOUT_TTL_SECONDS
    return max(60, min(CHECKOUT_TTL_SECONDS, int((expires - datetime.now(UTC)).total_seconds()) + 60))


async def _checkout_record(deps: Any, order_id: str, user_id: str) -> dict[str, Any]:
    raw = await deps.redis.get(CHECKOUT_KEY + order_id)
    if raw is None:
        return {}
    try:
        record: dict[str, Any] = json.loads(raw)
    except ValueError:
        return {}
    return record if record.get("user_id") == user_id else {}


@router.get("/orders/{order_id}/checkout")
async def checkout(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    order = await deps.gateway.call("orders.byId", path={"order_id": order_id}, session=session)
    if order["buyer_id"] != user.id or order["status"] != "awaiting_payment":
        return redirect(f"/orders/{order_id}")
    record = await _checkout_record(deps, order_id, user.id)
    settings = deps.settings
    publishable_key = settings.stripe_publishable_key
    provider = record.get("provider")
    stripe = bool(publishable_key and record.get("client_secret") and provider not in LOCAL_PROVIDERS)
    local = not stripe and settings.environment in ("development", "test")
    return render(
        request,
        "orders/checkout.html",
        {
            "order": order,
            "gig": await _gig_or_none(deps, order["gig_id"]),
            "stripe": stripe,
            "publishable_key": publishable_key if stripe else None,
            "client_secret": record.get("client_secret") if stripe else None,
            "return_url": str(request.url_for("order_page", order_id=order_id)),
            "local": local,
        },
    )


@router.post("/orders/{order_id}/pay")
async def pay_locally(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    """The local payment provider's "Pay" button (development and test): payments.devConfirm."""
    signed_in_user(session)
    try:
        confirmed = await deps.gateway.call(
            "payments.devConfirm", json={"order_id": order_id}, session=session
        )
    except GatewayError as error:
        if error.status_code == 404:
            raise
        session.flash(error.message, "error")
        return redirect(f"/orders/{order_id}/checkout", request)
    await deps.redis.delete(CHECKOUT_KEY + order_id)
    status = confirmed["order"]["status"]
    if status == "in_progress":
        session.flash("Payment received. The seller has started on your order.", "success")
    else:
        session.flash(f"Payment {confirmed.get('outcome', 'recorded')}.", "info")
    return redirect(f"/orders/{order_id}", request)


# --- the order page -----------------------------------------------------------------------------------------


async def _gig_or_none(deps: Any, gig_id: str) -> dict[str, Any] | None:
    try:
        gig: dict[str, Any] = await deps.gateway.call("gigs.byId", path={"gig_id": gig_id})
    except GatewayError:
        return None  # deleted since: the order still shows
    return gig


def _available(order: dict[str, Any], role: str) -> set[str]:
    """The actions this party may try now (the order service has the final word, see its README)."""
    status, extension = order["status"], order.get("extension") or {}
    extension_pending = extension.get("status") == "requested"
    due = _parse_time(order.get("due_at"))
    past_due = due is not None and due <= datetime.now(UTC)
    actions: set[str] = set()
    if role == "buyer":
        if status == "awaiting_payment":
            actions.add("pay")
        if status == "in_progress" and extension_pending:
            actions.add("decide_extension")
        if status == "in_progress" and past_due and not extension_pending:
            actions.add("cancel")
        if status == "delivered":
            actions.add("approve")
    else:
        if status == "in_progress":
            actions.update({"deliver", "cancel"})
            if not extension_pending:
                actions.add("request_extension")
        if status == "delivered":
            actions.add("cancel")
    if status == "completed" and not order.get(f"{role}_review_id"):
        actions.add("review")
    return actions


async def _order_context(
    deps: Any, session: Any, order_id: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    user = signed_in_user(session)
    order = await deps.gateway.call("orders.byId", path={"order_id": order_id}, session=session)
    role = "buyer" if order["buyer_id"] == user.id else "seller"
    delivered = (order.get("delivery") or {}).get("file_keys") or []
    return {
        "file_names": await file_names(deps.redis, list(delivered)),
        "order": order,
        "role": role,
        "gig": await _gig_or_none(deps, order["gig_id"]),
        "actions": _available(order, role),
        "labels": STATUS_LABELS,
        "values": {},
        "field_errors": {},
        **(extra or {}),
    }


@router.get("/orders/{order_id}", name="order_page")
async def order_page(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return render(request, "orders/order.html", await _order_context(deps, session, order_id))


@router.get("/orders/{order_id}/panel")
async def order_panel(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    """The order's state and actions only: static/js/live.js swaps it in on an `order.updated` push."""
    return render(
        request,
        "orders/_panel.html",
        await _order_context(deps, session, order_id),
        headers={"Cache-Control": "no-store"},
    )


def _action_body(action: str, form: FormData, errors: FormErrors) -> dict[str, Any]:
    version = parse_int(_text(form, "version") or "0", "version", errors, low=1, high=2**31)
    if action == "extension":
        days = parse_int(_text(form, "days"), "days", errors, low=1, high=30)
        reason = _text(form, "reason")
        if not reason:
            errors.add("reason", "Tell the buyer why you need more time.")
        return {"days": days, "reason": reason, "version": version}
    if action == "extension/decision":
        return {"approve": _text(form, "decision") == "approve", "version": version}
    if action == "delivery":
        keys = [k for k in form.getlist("file_keys") if isinstance(k, str) and k.strip()]
        message = _text(form, "message")
        if not keys and not message:
            errors.add("message", "Describe the delivery or attach the files.")
        return {"message": message, "file_keys": keys, "version": version}
    if action == "cancel":
        return {"reason": _text(form, "cancel_reason"), "version": version}
    return {"version": version}  # approve


_ACTIONS = {
    "extension": ("orders.requestExtension", "Your request for more time was sent to the buyer."),
    "extension/decision": ("orders.decideExtension", "Your decision was sent to the seller."),
    "delivery": ("orders.deliver", "Delivered. The buyer has been told."),
    "approve": ("orders.approve", "You approved the delivery: the order is complete."),
    "cancel": ("orders.cancel", "The order was cancelled; any payment is refunded."),
}


async def _act(order_id: str, action: str, request: Request, deps: Any, session: Any) -> Response:
    signed_in_user(session)
    form = await request.form()
    values = {name: _text(form, name) for name in ("days", "reason", "message", "cancel_reason")}
    errors = FormErrors()
    body = _action_body(action, form, errors)
    if errors:
        context = await _order_context(
            deps,
            session,
            order_id,
            {"values": values, "error": errors.context()["error"], "field_errors": errors.fields},
        )
        return render(request, "orders/order.html", context, status_code=400)
    operation, done = _ACTIONS[action]
    try:
        await deps.gateway.call(operation, path={"order_id": order_id}, json=body, session=session)
    except GatewayError as error:
        if error.status_code == 404:
            raise
        extra = {"values": values, **form_error(error)}
        if error.status_code == 409:
            extra["error"] = f"{error.message} The order below is its current state."
        context = await _order_context(deps, session, order_id, extra)
        return render(request, "orders/order.html", context, status_code=error.status_code)
    session.flash(done, "success")
    return redirect(f"/orders/{order_id}", request)


@router.post("/orders/{order_id}/extension")
async def request_extension(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return await _act(order_id, "extension", request, deps, session)


@router.post("/orders/{order_id}/extension/decision")
async def decide_extension(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return await _act(order_id, "extension/decision", request, deps, session)


@router.post("/orders/{order_id}/delivery")
async def deliver(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return await _act(order_id, "delivery", request, deps, session)


@router.post("/orders/{order_id}/approve")
async def approve(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return await _act(order_id, "approve", request, deps, session)


@router.post("/orders/{order_id}/cancel")
async def cancel(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    return await _act(order_id, "cancel", request, deps, session)


@router.post("/orders/{order_id}/review")
async def review(order_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    form = await request.form()
    values = {"rating": _text(form, "rating"), "comment": _text(form, "comment")}
    errors = FormErrors()
    rating = parse_int(values["rating"], "rating", errors, low=1, high=5)
    if errors:
        context = await _order_context(
            deps,
            session,
            order_id,
            {"values": values, "error": "Choose a rating from 1 to 5 stars.", "field_errors": errors.fields},
        )
        return render(request, "orders/order.html", context, status_code=400)
    body = {"order_id": order_id, "rating": rating, "comment": values["comment"]}
    try:
        await deps.gateway.call("reviews.create", json=body, session=session)
    except GatewayError as error:
        extra = {"values": values, **form_error(error)}
        if error.code == "order_not_completed":
            extra["error"] = "The order's completion is still on its way to reviews. Try again in a moment."
        context = await _order_context(deps, session, order_id, extra)
        return render(request, "orders/order.html", context, status_code=error.status_code)
    session.flash("Thank you: your review is published.", "success")
    return redirect(f"/orders/{order_id}", request)
