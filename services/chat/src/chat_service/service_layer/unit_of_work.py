"""The ports the handlers use; adapters implement them on MongoDB."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from chat_service.domain.conversation import Conversation
from chat_service.domain.directory import DirectoryEntry
from chat_service.domain.events import OutgoingEvent
from chat_service.domain.message import Message
from chat_service.domain.unread import UnreadNotice


class ConversationStore(Protocol):
    async def get(self, aggregate_id: str) -> Conversation | None: ...

    def add(self, aggregate: Conversation) -> None: ...

    def save(self, aggregate: Conversation) -> None: ...

    async def page_of(
        self, user_id: str, *, before: tuple[datetime, str] | None, limit: int
    ) -> list[Conversation]: ...


class MessageStore(Protocol):
    async def get(self, aggregate_id: str) -> Message | None: ...

    async def by_offer(self, offer_id: str) -> Message | None: ...

    async def pending_offers_due(self, now: datetime, *, limit: int) -> list[str]: ...

    def create(self, message: Message, events: Sequence[OutgoingEvent]) -> None: ...

    def update(self, message: Message, events: Sequence[OutgoingEvent]) -> None: ...

    async def page(
        self, conversation_id: str, *, before: int | None, after: int | None, limit: int
    ) -> list[Message]: ...

    async def unread_ids(
        self, recipient_id: str, *, conversation_id: str | None, up_to: int | None, limit: int
    ) -> list[str]: ...

    async def unread_count(self, conversation_id: str, recipient_id: str) -> int: ...

    async def unread_between(
        self, *, created_after: datetime, created_before: datetime, limit: int
    ) -> list[tuple[str, str, datetime]]: ...


class UnreadNoticeStore(Protocol):
    async def get(self, aggregate_id: str) -> UnreadNotice | None: ...

    def create(self, notice: UnreadNotice, events: Sequence[OutgoingEvent]) -> None: ...

    def update(self, notice: UnreadNotice, events: Sequence[OutgoingEvent]) -> None: ...


class UnitOfWork(Protocol):
    @property
    def conversations(self) -> ConversationStore: ...

    @property
    def messages(self) -> MessageStore: ...

    @property
    def unread_notices(self) -> UnreadNoticeStore: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class Directory(Protocol):
    async def get(self, user_id: str) -> DirectoryEntry | None: ...

    async def many(self, user_ids: list[str]) -> dict[str, DirectoryEntry]: ...

    async def by_username(self, username_key: str) -> DirectoryEntry | None: ...

    async def put(self, entry: DirectoryEntry) -> bool: ...


class MediaChecker(Protocol):
    """Refuses a file key unless its object was uploaded by `sender_id` to the chat area and fits the area's
    rules (servicekit.media.verify_upload: 422 missing or rejected, 403 not yours, 503 store down)."""

    async def ensure_usable(self, key: str, sender_id: str) -> None: ...
