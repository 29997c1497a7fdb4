"""Public order and payment routes: thin, parse -> command -> handler -> response.

Every order route needs a session (the gateway refuses anonymous calls, and `CurrentUserIdDep` refuses a
token without a subject); the handlers then check the caller is a party (else 404) and the right party for
the action (else 403). Literal paths come before `/{order_id}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from servicekit.public_api import error_responses, public_operation
from servicekit.security import CurrentUserIdDep

from order_service.domain.errors import WebhookTooLarge
from order_service.domain.model import Order
from order_service.entrypoints.dependencies import OrderDeps
from order_service.entrypoints.schemas import (
    ApproveIn,
    CancelIn,
    CreatedOrderOut,
    CreateOrderIn,
    DecisionIn,
    DeliveryIn,
    DevConfirmIn,
    DevConfirmOut,
    ExtensionIn,
    NotificationOut,
    NotificationsOut,
    OrderOut,
    OrderPageOut,
    WebhookOut,
)
from order_service.service_layer import notifications, orders, payments
from order_service.service_layer.commands import (
    ApproveDelivery,
    CancelOrder,
    CreateOrder,
    DecideExtension,
    DeliverOrder,
    ListOrders,
    RequestExtension,
)
from order_service.service_layer.paging import Position
from order_service.service_layer.ports import StoredNotification

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
payments_router = APIRouter(prefix="/api/v1/payments", tags=["payments"])

OrderId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Limit = Annotated[int, Query(ge=1, le=100)]
MAX_WEBHOOK_BYTES = 64 * 1024


@router.post(
    "",
    status_code=201,
    responses=error_responses(401, 422, 502),
    **public_operation("orders.create", session="required"),
)
async def create_order(body: CreateOrderIn, user_id: CurrentUserIdDep, deps: OrderDeps) -> CreatedOrderOut:
    command = CreateOrder(buyer_id=user_id, gig_id=body.gig_id, offer_id=body.offer_id)
    order, intent = await orders.create_order(command, deps.handlers)
    return CreatedOrderOut.of(order, intent, deps.provider.name)


async def _page(user_id: str, role: str, limit: int, before: str | None, deps: OrderDeps) -> OrderPageOut:
    found = await orders.list_orders(
        ListOrders(
            user_id=user_id, role="buyer" if role == "buyer" else "seller", limit=limit + 1, before=before
        ),
        deps.handlers,
    )
    return OrderPageOut(
        orders=[OrderOut.of(order) for order in found[:limit]], next_before=_next_before(found, limit)
    )


def _next_before(found: Sequence[Order | StoredNotification], limit: int) -> str | None:
    """Where the next page starts, when there is one: `found` holds up to one row past the page (`limit + 1`
    were asked for), so a full last page gets no position that would only lead to an empty page."""
    if len(found) <= limit:
        return None
    last = found[limit - 1]
    return Position(last.created_at, last.id).encode()


Before = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-\d{2}-\d{2}T[0-9:.]+(\+00:00|Z)(~[A-Za-z0-9-]{1,64})?$",
        description="`next_before` of the previous page",
    ),
]


@router.get(
    "/as-buyer",
    responses=error_responses(401, 422),
    **public_operation("orders.asBuyer", session="required"),
)
async def orders_as_buyer(
    user_id: CurrentUserIdDep, deps: OrderDeps, limit: Limit = 20, before: Before = None
) -> OrderPageOut:
    return await _page(user_id, "buyer", limit, before, deps)


@router.get(
    "/as-seller",
    responses=error_responses(401, 422),
    **public_operation("orders.asSeller", session="required"),
)
async def orders_as_seller(
    user_id: CurrentUserIdDep, deps: OrderDeps, limit: Limit = 20, before: Before = None
) -> OrderPageOut:
    return await _page(user_id, "seller", limit, before, deps)


@router.get(
    "/notifications",
    responses=error_responses(401, 422),
    **public_operation("orders.notifications", session="required"),
)
async def order_notifications(
    user_id: CurrentUserIdDep,
    deps: OrderDeps,
    limit: Limit = 50,
    unread_only: bool = False,
    before: Before = None,
) -> NotificationsOut:
    found = await notifications.list_notifications(user_id, limit + 1, unread_only, before, deps.handlers)
    return NotificationsOut(
        notifications=[NotificationOut.of(item) for item in found[:limit]],
        next_before=_next_before(found, limit),
    )


@router.post(
    "/notifications/{notification_id}/read",
    responses=error_responses(401, 404, 422),
    **public_operation("orders.markNotificationRead", session="required"),
)
async def mark_notification_read(
    notification_id: OrderId, user_id: CurrentUserIdDep, deps: OrderDeps
) -> NotificationOut:
    return NotificationOut.of(await notifications.mark_read(user_id, notification_id, deps.handlers))


@router.get(
    "/{order_id}",
    responses=error_responses(401, 404, 422),
    **public_operation("orders.byId", session="required"),
)
async def order_by_id(order_id: OrderId, user_id: CurrentUserIdDep, deps: OrderDeps) -> OrderOut:
    return OrderOut.of(await orders.get_order(user_id, order_id, deps.handlers))


@router.post(
    "/{order_id}/cancel",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("orders.cancel", session="required"),
)
async def cancel_order(
    order_id: OrderId, body: CancelIn, user_id: CurrentUserIdDep, deps: OrderDeps
) -> OrderOut:
    command = CancelOrder(
        user_id=user_id, order_id=order_id, reason=body.reason, expected_version=body.version
    )
    return OrderOut.of(await orders.cancel_order(command, deps.handlers))


@router.post(
    "/{order_id}/extension",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("orders.requestExtension", session="required"),
)
async def request_extension(
    order_id: OrderId, body: ExtensionIn, user_id: CurrentUserIdDep, deps: OrderDeps
) -> OrderOut:
    command = RequestExtension(
        user_id=user_id, order_id=order_id, days=body.days, reason=body.reason, expected_version=body.version
    )
    return OrderOut.of(await orders.request_extension(command, deps.handlers))


@router.post(
    "/{order_id}/extension/decision",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("orders.decideExtension", session="required"),
)
async def decide_extension(
    order_id: OrderId, body: DecisionIn, user_id: CurrentUserIdDep, deps: OrderDeps
) -> OrderOut:
    command = DecideExtension(
        user_id=user_id, order_id=order_id, approve=body.approve, expected_version=body.version
    )
    return OrderOut.of(await orders.decide_extension(command, deps.handlers))


@router.post(
    "/{order_id}/delivery",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("orders.deliver", session="required"),
)
async def deliver_order(
    order_id: OrderId, body: DeliveryIn, user_id: CurrentUserIdDep, deps: OrderDeps
) -> OrderOut:
    command = DeliverOrder(
        user_id=user_id,
        order_id=order_id,
        message=body.message,
        file_keys=tuple(body.file_keys),
        expected_version=body.version,
    )
    return OrderOut.of(await orders.deliver_order(command, deps.handlers))


@router.post(
    "/{order_id}/approve",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("orders.approve", session="required"),
)
async def approve_delivery(
    order_id: OrderId, body: ApproveIn, user_id: CurrentUserIdDep, deps: OrderDeps
) -> OrderOut:
    command = ApproveDelivery(user_id=user_id, order_id=order_id, expected_version=body.version)
    return OrderOut.of(await orders.approve_delivery(command, deps.handlers))


@payments_router.post(
    "/webhook",
    responses=error_responses(400, 413),
    **public_operation("payments.webhook", session="none"),
)
async def payment_webhook(
    request: Request,
    deps: OrderDeps,
    # Visible ASCII and spaces, as the gateway forwards headers (`t=...,v1=...` is all Stripe sends): the
    # schema says so, so a header with a control character is a documented 422, not a surprise.
    stripe_signature: Annotated[str, Header(max_length=2000, pattern=r"^[ -~]*$")] = "",
) -> WebhookOut:
    """The provider's notification: the raw body is what is signed, so it is read unparsed."""
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        raise WebhookTooLarge(f"The webhook body exceeds {MAX_WEBHOOK_BYTES} bytes")
    outcome = await payments.handle_webhook(payload, stripe_signature, deps.handlers)
    return WebhookOut(outcome=outcome)


@payments_router.post(
    "/dev-confirm",
    responses=error_responses(401, 404, 409, 422),
    **public_operation("payments.devConfirm", session="required"),
)
async def dev_confirm(body: DevConfirmIn, user_id: CurrentUserIdDep, deps: OrderDeps) -> DevConfirmOut:
    """Development and test only (404 elsewhere): pay the caller's order as a test card would."""
    outcome = await payments.dev_confirm(user_id, body.order_id, deps.handlers)
    order = await orders.get_order(user_id, body.order_id, deps.handlers)
    return DevConfirmOut(outcome=outcome, order=OrderOut.of(order))
