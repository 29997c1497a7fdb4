"""Which email each event type asks for, the fields each template needs and the links it carries.

Adding an email is one ``EmailTemplate`` here, one event-type entry, and three template files
(``<name>.subject.txt``, ``<name>.txt``, ``<name>.html``) in ``adapters/templates``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class TemplateLink:
    """A link into the client app: ``{PUBLIC_URL}{path}?{query_param}={payload[source_field]}``."""

    name: str
    path: str
    query_param: str
    source_field: str


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    required_fields: tuple[str, ...]
    links: tuple[TemplateLink, ...] = ()
    # Payload fields that are a credential (a link token, a one-time code): needed to write the email once,
    # never kept anywhere after (blanked in dead letters, never logged).
    secret_fields: tuple[str, ...] = ()


VERIFY_EMAIL = EmailTemplate(
    name="verify_email",
    required_fields=("username", "token"),
    links=(TemplateLink("verify_url", "/confirm_email", "v_token", "token"),),
    secret_fields=("token",),
)
OTP = EmailTemplate(
    name="otp", required_fields=("username", "otp", "expires_in_minutes"), secret_fields=("otp",)
)
FORGOT_PASSWORD = EmailTemplate(
    name="forgot_password",
    required_fields=("username", "token"),
    links=(TemplateLink("reset_url", "/reset_password", "token", "token"),),
    secret_fields=("token",),
)
RESET_SUCCESS = EmailTemplate(name="reset_success", required_fields=("username",))
REVIEW_RECEIVED = EmailTemplate(
    name="review_received",
    required_fields=("username", "reviewer_username", "rating", "order_id"),
    links=(TemplateLink("order_url", "/orders", "order_id", "order_id"),),
)
# chat (docs/contracts.md "Marketplace events"): links open the conversation in the client app.
OFFER_RECEIVED = EmailTemplate(
    name="offer_received",
    required_fields=(
        "username",
        "seller_username",
        "description",
        "price_display",
        "delivery_days",
        "conversation_id",
    ),
    links=(TemplateLink("conversation_url", "/inbox", "conversation", "conversation_id"),),
)
UNREAD_MESSAGES = EmailTemplate(
    name="unread_messages",
    required_fields=("username", "sender_username", "unread_count", "conversation_id"),
    links=(TemplateLink("conversation_url", "/inbox", "conversation", "conversation_id"),),
)

# The order service's emails (docs/contracts.md, "Marketplace events"): amounts arrive pre-formatted
# (`*_text`), so no template does money arithmetic.
_ORDER = ("username", "order_id")
ORDER_TEMPLATES = (
    EmailTemplate(name="order_placed", required_fields=(*_ORDER, "price_text", "earnings_text", "due_at")),
    EmailTemplate(name="order_receipt", required_fields=(*_ORDER, "price_text", "total_text", "due_at")),
    EmailTemplate(name="extension_requested", required_fields=(*_ORDER, "days", "reason")),
    EmailTemplate(name="extension_decided", required_fields=(*_ORDER, "approved", "days", "due_at")),
    EmailTemplate(name="order_delivered", required_fields=(*_ORDER, "files")),
    EmailTemplate(name="delivery_approved", required_fields=(*_ORDER, "earnings_text")),
    EmailTemplate(name="order_cancelled", required_fields=(*_ORDER, "refund_text", "cancelled_by")),
    EmailTemplate(name="order_expired", required_fields=(*_ORDER, "total_text")),
)

TEMPLATES: Mapping[str, EmailTemplate] = {
    template.name: template
    for template in (
        VERIFY_EMAIL,
        OTP,
        FORGOT_PASSWORD,
        RESET_SUCCESS,
        REVIEW_RECEIVED,
        OFFER_RECEIVED,
        UNREAD_MESSAGES,
        *ORDER_TEMPLATES,
    )
}

# Blanked in every dead letter whatever its event type claims to be (a payload that names no template, or
# the wrong one, may still carry a secret).
SECRET_PAYLOAD_FIELDS: tuple[str, ...] = tuple(
    sorted({name for template in TEMPLATES.values() for name in template.secret_fields})
)

# The routing key (= event type) is the authority; a payload's own ``template`` field is only consulted for
# event types this table does not know yet, so a producer cannot make an OTP event render a reset email.
EVENT_TEMPLATES: Mapping[str, str] = {
    "auth.email.verification_requested.v1": VERIFY_EMAIL.name,
    "auth.email.otp_requested.v1": OTP.name,
    "auth.email.password_reset_requested.v1": FORGOT_PASSWORD.name,
    "auth.email.password_reset_completed.v1": RESET_SUCCESS.name,
    "review.email.review_received.v1": REVIEW_RECEIVED.name,
    "chat.email.offer_received.v1": OFFER_RECEIVED.name,
    "chat.email.unread_messages.v1": UNREAD_MESSAGES.name,
    **{f"order.email.{template.name}.v1": template.name for template in ORDER_TEMPLATES},
}


def build_link(public_url: str, link: TemplateLink, fields: Mapping[str, Any]) -> str:
    query = urlencode({link.query_param: str(fields[link.source_field])})
    return f"{public_url.rstrip('/')}{link.path}?{query}"
