"""Refresh-token family rules: rotation, reuse detection, revocation (fake store of our own port)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from gateway_service.domain.errors import (
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
    SessionRevokedError,
)
from gateway_service.domain.sessions import (
    RefreshTokenRecord,
    RefreshTokenStatus,
    RefreshVerdict,
    hash_refresh_token,
    judge_refresh,
)
from gateway_service.service_layer.sessions import SessionService


def _record(status: RefreshTokenStatus) -> RefreshTokenRecord:
    return RefreshTokenRecord("h", "sid", "user", status, datetime.now(UTC))


@pytest.mark.parametrize(
    ("record", "session_live", "verdict"),
    [
        (None, False, RefreshVerdict.UNKNOWN),
        (_record(RefreshTokenStatus.ACTIVE), True, RefreshVerdict.ROTATE),
        (_record(RefreshTokenStatus.ACTIVE), False, RefreshVerdict.SESSION_ENDED),
        (_record(RefreshTokenStatus.ROTATED), True, RefreshVerdict.REUSED),
        # Replaying a rotated token after the family is gone is still reuse, not merely "unknown".
        (_record(RefreshTokenStatus.ROTATED), False, RefreshVerdict.REUSED),
    ],
)
def test_judge_refresh(
    record: RefreshTokenRecord | None, session_live: bool, verdict: RefreshVerdict
) -> None:
    assert judge_refresh(record, session_live=session_live) is verdict


async def test_refresh_rotates_to_a_new_pair_in_the_same_session(session_service: SessionService) -> None:
    first = await session_service.start(user_id="u1", device_id="d1")
    second = await session_service.refresh(first.refresh_token)

    assert second.session_id == first.session_id
    assert second.user_id == "u1"
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    claims = await session_service.authenticate(second.access_token)
    assert (claims.user_id, claims.session_id) == ("u1", first.session_id)
    third = await session_service.refresh(second.refresh_token)
    assert third.session_id == first.session_id


async def test_store_never_holds_the_refresh_token_itself(
    session_service: SessionService, store: Any
) -> None:
    issued = await session_service.start(user_id="u1", device_id=None)
    assert issued.refresh_token not in store.refresh
    assert hash_refresh_token(issued.refresh_token) in store.refresh


async def test_reusing_a_rotated_token_revokes_the_whole_family(session_service: SessionService) -> None:
    first = await session_service.start(user_id="u1", device_id="d1")
    second = await session_service.refresh(first.refresh_token)

    with pytest.raises(RefreshTokenReusedError):
        await session_service.refresh(first.refresh_token)

    # Both the legitimate newest tokens and every access token of the family are dead now.
    with pytest.raises(InvalidRefreshTokenError):
        await session_service.refresh(second.refresh_token)
    for access_token in (first.access_token, second.access_token):
        with pytest.raises(SessionRevokedError):
            await session_service.authenticate(access_token)


async def test_reuse_only_revokes_its_own_family(session_service: SessionService) -> None:
    phone = await session_service.start(user_id="u1", device_id="phone")
    laptop = await session_service.start(user_id="u1", device_id="laptop")
    await session_service.refresh(phone.refresh_token)

    with pytest.raises(RefreshTokenReusedError):
        await session_service.refresh(phone.refresh_token)

    assert (await session_service.authenticate(laptop.access_token)).session_id == laptop.session_id
    await session_service.refresh(laptop.refresh_token)


async def test_losing_a_concurrent_rotation_counts_as_reuse(
    session_service: SessionService, store: Any
) -> None:
    issued = await session_service.start(user_id="u1", device_id=None)
    store.lose_next_rotation = True

    with pytest.raises(RefreshTokenReusedError):
        await session_service.refresh(issued.refresh_token)
    assert not await store.is_live(issued.session_id)


async def test_unknown_refresh_token_is_refused(session_service: SessionService) -> None:
    with pytest.raises(InvalidRefreshTokenError):
        await session_service.refresh("never-issued")


async def test_signed_out_session_refuses_its_tokens(session_service: SessionService) -> None:
    issued = await session_service.start(user_id="u1", device_id=None)
    await session_service.end(issued.session_id)

    with pytest.raises(InvalidRefreshTokenError):
        await session_service.refresh(issued.refresh_token)
    with pytest.raises(SessionRevokedError):
        await session_service.authenticate(issued.access_token)


async def test_password_reset_or_change_ends_every_session_of_the_user(
    session_service: SessionService,
) -> None:
    current = await session_service.start(user_id="u1", device_id="laptop")
    other = await session_service.start(user_id="u1", device_id="phone")
    someone_else = await session_service.start(user_id="u2", device_id="tablet")

    assert await session_service.end_every_session("u1") == 2

    await session_service.authenticate(someone_else.access_token)
    for ended in (current, other):
        with pytest.raises(SessionRevokedError):
            await session_service.authenticate(ended.access_token)
        with pytest.raises(InvalidRefreshTokenError):
            await session_service.refresh(ended.refresh_token)
