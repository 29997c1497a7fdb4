"""HTTP routes under /api/v1/chat (participants only): parse -> command -> handler -> response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from servicekit.public_api import error_responses, public_operation
from servicekit.security import CurrentUserIdDep

from chat_service.entrypoints.dependencies import ChatDeps
from chat_service.entrypoints.schemas import (
    ID_PATTERN,
    ConversationOut,
    ConversationPage,
    MarkReadIn,
    MessageOut,
    MessagePage,
    OfferOut,
    ReadOut,
    RespondIn,
    SendIn,
)
from chat_service.service_layer import messaging, reads
from chat_service.service_layer.commands import MarkAllRead, MarkRead, RespondToOffer, SendMessage

router = APIRouter(prefix="/api/v1/chat", tags=["chat"])

ConversationId = Annotated[str, Path(max_length=64, pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/conversations",
    responses=error_responses(400, 401),
    **public_operation("chat.conversations", session="required"),
)
async def conversations(
    user_id: CurrentUserIdDep, deps: ChatDeps, cursor: Cursor = None, limit: Limit = 20
) -> ConversationPage:
    page = await reads.my_conversations(user_id, cursor, limit, deps.handlers)
    return ConversationPage(items=[ConversationOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get(
    "/conversations/with/{username}",
    responses=error_responses(401, 404, 422),
    **public_operation("chat.conversationWith", session="required"),
)
async def conversation_with(
    username: Annotated[str, Path(min_length=1, max_length=64)], user_id: CurrentUserIdDep, deps: ChatDeps
) -> ConversationOut:
    return ConversationOut.of(await reads.conversation_with(user_id, username, deps.handlers))


@router.get(
    "/conversations/{conversation_id}/messages",
    responses=error_responses(400, 401, 404, 422),
    **public_operation("chat.messages", session="required"),
)
async def messages(
    conversation_id: ConversationId,
    user_id: CurrentUserIdDep,
    deps: ChatDeps,
    before: Annotated[
        str | None, Query(max_length=12, description="Older than this seq (newest first)")
    ] = None,
    after: Annotated[
        str | None, Query(max_length=12, description="Newer than this seq (oldest first)")
    ] = None,
    limit: Limit = 50,
) -> MessagePage:
    page = await reads.messages_of(
        user_id, conversation_id, before=before, after=after, limit=limit, deps=deps.handlers
    )
    now = deps.handlers.clock()
    return MessagePage(items=[MessageOut.of(m, now) for m in page.items], next_cursor=page.next_cursor)


@router.post(
    "/messages",
    status_code=201,
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("chat.send", session="required"),
)
async def send(body: SendIn, user_id: CurrentUserIdDep, deps: ChatDeps) -> MessageOut:
    command = SendMessage(
        sender_id=user_id,
        kind=body.kind,
        text=body.text,
        conversation_id=body.conversation_id,
        recipient_id=body.recipient_id,
        file_key=body.file_key,
        offer=None if body.offer is None else body.offer.terms(),
    )
    message = await messaging.send_message(command, deps.handlers)
    return MessageOut.of(message, deps.handlers.clock())


@router.post(
    "/offers/{offer_id}/response",
    responses=error_responses(401, 403, 404, 409, 422),
    **public_operation("chat.respondToOffer", session="required"),
)
async def respond_to_offer(
    offer_id: Annotated[str, Path(max_length=64, pattern=ID_PATTERN)],
    body: RespondIn,
    user_id: CurrentUserIdDep,
    deps: ChatDeps,
) -> OfferOut:
    command = RespondToOffer(offer_id=offer_id, user_id=user_id, action=body.action)
    offer = await messaging.respond_to_offer(command, deps.handlers)
    return OfferOut.of(offer, deps.handlers.clock())


@router.post(
    "/conversations/{conversation_id}/read",
    responses=error_responses(401, 404, 422),
    **public_operation("chat.markRead", session="required"),
)
async def mark_read(
    conversation_id: ConversationId, body: MarkReadIn, user_id: CurrentUserIdDep, deps: ChatDeps
) -> ReadOut:
    command = MarkRead(user_id=user_id, conversation_id=conversation_id, up_to_seq=body.up_to_seq)
    return ReadOut.of(await messaging.mark_read(command, deps.handlers))


@router.post(
    "/read",
    responses=error_responses(401),
    **public_operation("chat.markAllRead", session="required"),
)
async def mark_all_read(user_id: CurrentUserIdDep, deps: ChatDeps) -> ReadOut:
    return ReadOut.of(await messaging.mark_all_read(MarkAllRead(user_id=user_id), deps.handlers))
