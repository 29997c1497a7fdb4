"""The debounce of "you have unread messages" emails: at most one per conversation and recipient per period.

Chat has no presence of its own and reads no other service's store. It treats a recipient who has left a
message unread for `delay` as away: a recipient who is online has the message pushed to their socket and
their client marks it read (docs/adr/0019-realtime-and-chat.md). A notice is due when some unread message is
newer than the last email and the last email is at least `period` old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class UnreadNotice:
    conversation_id: str
    recipient_id: str
    last_sent_at: datetime

    @property
    def id(self) -> str:
        return notice_id(self.conversation_id, self.recipient_id)

    def is_due(self, newest_unread_at: datetime, now: datetime, period: timedelta) -> bool:
        return newest_unread_at > self.last_sent_at and now - self.last_sent_at >= period


def notice_id(conversation_id: str, recipient_id: str) -> str:
    return f"{conversation_id}:{recipient_id}"
