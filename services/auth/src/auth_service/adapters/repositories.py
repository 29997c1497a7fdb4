"""SQLAlchemy repositories over one AsyncSession. They never commit: the unit of work does."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.adapters.orm import account_tokens, accounts, known_devices, otp_challenges
from auth_service.domain.errors import DuplicateAccountError
from auth_service.domain.model import Account, AccountToken, OtpChallenge, TokenPurpose


class SqlAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> None:
        try:
            await self._session.execute(insert(accounts).values(**_account_values(account)))
        except IntegrityError as error:
            if is_duplicate_key(error):
                raise DuplicateAccountError() from error
            raise

    async def get(self, account_id: UUID) -> Account | None:
        return await self._one(accounts.c.id == account_id)

    async def get_for_update(self, account_id: UUID) -> Account | None:
        # By primary key only: an exclusive lock on this one row and no gap, so other accounts never wait.
        return await self._one(accounts.c.id == account_id, for_update=True)

    async def get_by_email(self, email: str) -> Account | None:
        return await self._one(accounts.c.email == email)

    async def get_by_username(self, username: str) -> Account | None:
        return await self._one(accounts.c.username == username)

    async def exists(self, *, email: str, username: str) -> bool:
        taken = exists().where(or_(accounts.c.email == email, accounts.c.username == username))
        return bool(await self._session.scalar(select(taken)))

    async def update(self, account: Account) -> None:
        values = _account_values(account)
        del values["id"]
        await self._session.execute(update(accounts).where(accounts.c.id == account.id).values(**values))

    async def is_known_device(self, account_id: UUID, device_id: str) -> bool:
        known = exists().where(
            and_(known_devices.c.account_id == account_id, known_devices.c.device_id == device_id)
        )
        return bool(await self._session.scalar(select(known)))

    async def add_known_device(self, account_id: UUID, device_id: str, now: datetime) -> None:
        if await self.is_known_device(account_id, device_id):
            return
        await self._session.execute(
            insert(known_devices).values(account_id=account_id, device_id=device_id, first_seen_at=now)
        )

    async def _one(self, condition: Any, *, for_update: bool = False) -> Account | None:
        statement = select(accounts).where(condition)
        if for_update:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else Account(**row)


class SqlOtpChallengeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def replace(self, challenge: OtpChallenge) -> None:
        await self._session.execute(
            delete(otp_challenges).where(
                and_(
                    otp_challenges.c.account_id == challenge.account_id,
                    otp_challenges.c.device_id == challenge.device_id,
                )
            )
        )
        await self._session.execute(insert(otp_challenges).values(**vars(challenge)))

    async def get_for_device(self, account_id: UUID, device_id: str) -> OtpChallenge | None:
        # Row lock until commit: concurrent guesses are serialised, so none escapes the attempt limit.
        statement = (
            select(otp_challenges)
            .where(and_(otp_challenges.c.account_id == account_id, otp_challenges.c.device_id == device_id))
            .with_for_update()
        )
        row = (await self._session.execute(statement)).mappings().first()
        return None if row is None else OtpChallenge(**row)

    async def update(self, challenge: OtpChallenge) -> None:
        await self._session.execute(
            update(otp_challenges)
            .where(otp_challenges.c.id == challenge.id)
            .values(attempts=challenge.attempts)
        )

    async def delete(self, challenge_id: UUID) -> None:
        await self._session.execute(delete(otp_challenges).where(otp_challenges.c.id == challenge_id))


class SqlAccountTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: AccountToken) -> None:
        values = vars(token) | {"purpose": token.purpose.value}
        await self._session.execute(insert(account_tokens).values(**values))

    async def get_by_hash(
        self, purpose: TokenPurpose, token_hash: str, *, lock: bool = False
    ) -> AccountToken | None:
        # With ``lock``, a row lock (unique key, no gap) until commit: two requests racing with the same link
        # cannot both consume it, and the read sees the latest committed state at any isolation level.
        statement = select(account_tokens).where(
            and_(account_tokens.c.token_hash == token_hash, account_tokens.c.purpose == purpose.value)
        )
        if lock:
            statement = statement.with_for_update()
        row = (await self._session.execute(statement)).mappings().first()
        if row is None:
            return None
        return AccountToken(**(dict(row) | {"purpose": TokenPurpose(row["purpose"])}))

    async def update(self, token: AccountToken) -> None:
        await self._session.execute(
            update(account_tokens).where(account_tokens.c.id == token.id).values(used_at=token.used_at)
        )

    async def revoke_outstanding(self, account_id: UUID, purpose: TokenPurpose, now: datetime) -> None:
        # Under READ COMMITTED this locks only the account's own unused tokens, not the index gap after
        # them; the caller holds the account row lock, so no token of this account is issued meanwhile.
        await self._session.execute(
            update(account_tokens)
            .where(
                and_(
                    account_tokens.c.account_id == account_id,
                    account_tokens.c.purpose == purpose.value,
                    account_tokens.c.used_at.is_(None),
                )
            )
            .values(used_at=now)
        )


def _account_values(account: Account) -> dict[str, Any]:
    return dict(vars(account))


_MYSQL_DUPLICATE_ENTRY = 1062


def is_duplicate_key(error: IntegrityError) -> bool:
    """Whether MariaDB refused a row for a unique key (as opposed to, say, a foreign key)."""
    args: tuple[object, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] == _MYSQL_DUPLICATE_ENTRY
