"""A user's own order notifications."""

from __future__ import annotations

from collections.abc import Sequence

from order_service.domain.errors import NotificationNotFound
from order_service.service_layer.dependencies import HandlerDependencies
from order_service.service_layer.paging import parse_position
from order_service.service_layer.ports import StoredNotification


async def list_notifications(
    user_id: str, limit: int, unread_only: bool, before: str | None, deps: HandlerDependencies
) -> Sequence[StoredNotification]:
    position = parse_position(before)
    async with deps.new_uow() as uow:
        return await uow.notifications.of_user(user_id, limit, unread_only, position)


async def mark_read(user_id: str, notification_id: str, deps: HandlerDependencies) -> StoredNotification:
    async with deps.new_uow() as uow:
        notification = await uow.notifications.mark_read(user_id, notification_id, deps.clock())
        if notification is None:
            raise NotificationNotFound()
        await uow.commit()
    return notification
