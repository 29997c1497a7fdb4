"""The gateway operations the storefront calls: operationId -> method and path under /api/v1/gateway.

Written out rather than read from the gateway at run time, so the storefront's image carries no gateway
files and a page never waits on a schema download; tests/test_operations.py checks every entry against the
OpenAPI document the gateway publishes (same operationId, method and path), so drift fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PUBLIC_PREFIX = "/api/v1/gateway"
SessionRule = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # below PUBLIC_PREFIX, with {placeholders}
    session: SessionRule = "none"

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "HEAD", "PUT", "DELETE")


OPERATIONS: dict[str, Operation] = {
    "auth.changePassword": Operation("PUT", "/auth/change-password", session="required"),
    "auth.forgotPassword": Operation("POST", "/auth/forgot-password"),
    "auth.me": Operation("GET", "/auth/me", session="required"),
    "auth.refresh": Operation("POST", "/auth/refresh"),
    "auth.resendVerification": Operation("POST", "/auth/resend-verification", session="required"),
    "auth.resetPassword": Operation("POST", "/auth/reset-password"),
    "auth.signin": Operation("POST", "/auth/signin"),
    "auth.signout": Operation("POST", "/auth/signout", session="required"),
    "auth.signup": Operation("POST", "/auth/signup"),
    "auth.verifyEmail": Operation("POST", "/auth/verify-email"),
    "auth.verifyOtp": Operation("POST", "/auth/verify-otp"),
    "buyers.byUsername": Operation("GET", "/buyers/by-username/{username}", session="required"),
    "buyers.me": Operation("GET", "/buyers/me", session="required"),
    "chat.conversationWith": Operation("GET", "/chat/conversations/with/{username}", session="required"),
    "chat.conversations": Operation("GET", "/chat/conversations", session="required"),
    "chat.markAllRead": Operation("POST", "/chat/read", session="required"),
    "chat.markRead": Operation("POST", "/chat/conversations/{conversation_id}/read", session="required"),
    "chat.messages": Operation("GET", "/chat/conversations/{conversation_id}/messages", session="required"),
    "chat.respondToOffer": Operation("POST", "/chat/offers/{offer_id}/response", session="required"),
    "chat.send": Operation("POST", "/chat/messages", session="required"),
    "gigs.byCategory": Operation("GET", "/gigs/category/{category}"),
    "gigs.byId": Operation("GET", "/gigs/{gig_id}", session="optional"),
    "gigs.bySeller": Operation("GET", "/gigs/seller/{seller_id}"),
    "gigs.create": Operation("POST", "/gigs", session="required"),
    "gigs.delete": Operation("DELETE", "/gigs/{gig_id}", session="required"),
    "gigs.pausedBySeller": Operation("GET", "/gigs/seller/{seller_id}/paused", session="required"),
    "gigs.search": Operation("GET", "/gigs/search"),
    "gigs.setActive": Operation("PUT", "/gigs/{gig_id}/active", session="required"),
    "gigs.similar": Operation("GET", "/gigs/{gig_id}/similar"),
    "gigs.topRated": Operation("GET", "/gigs/top-rated"),
    "gigs.update": Operation("PATCH", "/gigs/{gig_id}", session="required"),
    "media.createUpload": Operation("POST", "/media/uploads", session="required"),
    "orders.approve": Operation("POST", "/orders/{order_id}/approve", session="required"),
    "orders.asBuyer": Operation("GET", "/orders/as-buyer", session="required"),
    "orders.asSeller": Operation("GET", "/orders/as-seller", session="required"),
    "orders.byId": Operation("GET", "/orders/{order_id}", session="required"),
    "orders.cancel": Operation("POST", "/orders/{order_id}/cancel", session="required"),
    "orders.create": Operation("POST", "/orders", session="required"),
    "orders.decideExtension": Operation("POST", "/orders/{order_id}/extension/decision", session="required"),
    "orders.deliver": Operation("POST", "/orders/{order_id}/delivery", session="required"),
    "orders.markNotificationRead": Operation(
        "POST", "/orders/notifications/{notification_id}/read", session="required"
    ),
    "orders.notifications": Operation("GET", "/orders/notifications", session="required"),
    "orders.requestExtension": Operation("POST", "/orders/{order_id}/extension", session="required"),
    "payments.devConfirm": Operation("POST", "/payments/dev-confirm", session="required"),
    "reviews.byGig": Operation("GET", "/reviews/gig/{gig_id}"),
    "reviews.bySeller": Operation("GET", "/reviews/seller/{seller_id}"),
    "reviews.create": Operation("POST", "/reviews", session="required"),
    "sellers.byId": Operation("GET", "/sellers/{seller_id}", session="optional"),
    "sellers.byUsername": Operation("GET", "/sellers/by-username/{username}", session="optional"),
    "sellers.create": Operation("POST", "/sellers", session="required"),
    "sellers.random": Operation("GET", "/sellers/random", session="optional"),
    "sellers.update": Operation("PUT", "/sellers/{seller_id}", session="required"),
}
