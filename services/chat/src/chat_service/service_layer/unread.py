"""The debounced "you have unread messages" email (domain/unread.py says why unread-for-a-while means away).

Run periodically by every replica. Each (conversation, recipient) has one notice document; the email event
is staged in that document's outbox by the same versioned write that moves `last_sent_at`, so two replicas
sweeping at once send it once (the loser of the write sends nothing), and a crash never sends it without
recording it, or records it without sending it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from servicekit.mongo import ConcurrentUpdateError

from chat_service.domain.conversation import Conversation
from chat_service.domain.unread import UnreadNotice, notice_id
from chat_service.service_layer.dependencies import HandlerDeps
from chat_service.service_layer.emails import unread_messages_email

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 5000


async def send_unread_notices(deps: HandlerDeps) -> int:
    """Stage the due emails; returns how many were staged."""
    now = deps.clock()
    policy = deps.unread_emails
    async with deps.new_uow() as uow:
        rows = await uow.messages.unread_between(
            created_after=now - policy.lookback, created_before=now - policy.delay, limit=SWEEP_LIMIT
        )
    newest: dict[tuple[str, str], datetime] = {}
    for conversation_id, recipient_id, created_at in rows:
        newest[(conversation_id, recipient_id)] = created_at  # ascending: the last one seen is the newest
    sent = 0
    for (conversation_id, recipient_id), newest_at in newest.items():
        try:
            if await _notify(conversation_id, recipient_id, newest_at, deps):
                sent += 1
        except ConcurrentUpdateError:
            continue  # another replica recorded this notice at the same moment: it sends the email
    return sent


async def _notify(conversation_id: str, recipient_id: str, newest_at: datetime, deps: HandlerDeps) -> bool:
    now = deps.clock()
    async with deps.new_uow() as uow:
        conversation: Conversation | None = await uow.conversations.get(conversation_id)
        if conversation is None or not conversation.is_participant(recipient_id):
            return False
        notice = await uow.unread_notices.get(notice_id(conversation_id, recipient_id))
        if notice is not None and not notice.is_due(newest_at, now, deps.unread_emails.period):
            return False
        people = await deps.directory.many(list(conversation.participants))
        recipient = people.get(recipient_id)
        if recipient is None:
            logger.warning("no directory entry for a recipient; unread email skipped")
            return False
        sender = people.get(conversation.other(recipient_id))
        count = await uow.messages.unread_count(conversation_id, recipient_id)
        event = unread_messages_email(conversation_id, recipient=recipient, sender=sender, unread_count=count)
        if notice is None:
            uow.unread_notices.create(UnreadNotice(conversation_id, recipient_id, last_sent_at=now), [event])
        else:
            notice.last_sent_at = now
            uow.unread_notices.update(notice, [event])
        await uow.commit()
        return True
