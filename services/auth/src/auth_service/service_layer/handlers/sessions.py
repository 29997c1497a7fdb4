"""Sign-in (with the new-device OTP step), current user and sign-out.

Every password or code check follows one shape: a short transaction counts the attempt (so a burst of
parallel guesses is refused before any reaches the hasher), the slow hash runs with no database connection
held, and a second short transaction records the outcome (a success refunds the attempt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import uuid4

from auth_service.domain.credentials import check_device_id
from auth_service.domain.errors import InvalidCredentials, InvalidOtp, OtpAttemptsExhausted
from auth_service.domain.events import OtpRequested
from auth_service.domain.model import OTP_DIGITS, OTP_MAX_ATTEMPTS, Account, OtpChallenge
from auth_service.service_layer.commands import GetCurrentUser, SignIn, SignOut, VerifyOtp
from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.handlers.common import (
    count_password_attempt,
    find_by_identifier,
    get_existing_account,
)
from auth_service.service_layer.retry import retry_on_conflict

_OTP_PATTERN = re.compile(rf"\d{{{OTP_DIGITS}}}")


@dataclass(frozen=True)
class SignInOutcome:
    """Either the signed-in account (known device) or a pending OTP challenge (new device)."""

    account: Account | None

    @property
    def otp_required(self) -> bool:
        return self.account is None


@retry_on_conflict
async def sign_in(command: SignIn, deps: HandlerDependencies) -> SignInOutcome:
    device_id = check_device_id(command.device_id)
    counted = await count_password_attempt(deps, identifier=command.email_or_username)
    if counted is None:
        await deps.hasher.verify_dummy(command.password)
        raise InvalidCredentials()
    account, budget_spent = counted
    if not await deps.hasher.verify(account.password_hash, command.password):
        raise InvalidCredentials()
    # Upgrade hashes created under older argon2 parameters while the plain password is at hand.
    upgraded_hash = None
    if deps.hasher.needs_rehash(account.password_hash):
        upgraded_hash = await deps.hasher.hash(command.password)
    # An unverified account never skips the OTP: the code goes to the mailbox, so only its owner can turn
    # the account into a session (whoever registered the address without owning it cannot). Nor does an
    # account whose failure budget was spent: a guessed password alone is not enough.
    trusted = account.email_verified and not budget_spent
    if trusted:
        async with deps.uow_factory() as uow:
            trusted = await uow.accounts.is_known_device(account.id, device_id)
    code = None if trusted else deps.secrets.otp_code()
    code_hash = None if code is None else await deps.otp_hasher.hash(code)
    now = deps.clock()
    async with deps.uow_factory() as uow:
        locked = await uow.accounts.get_for_update(account.id)
        if locked is None or locked.password_hash != account.password_hash:
            raise InvalidCredentials()  # deleted, or the password changed while we were hashing
        locked.signin_succeeded()
        if upgraded_hash is not None:
            locked.change_password_hash(upgraded_hash, now)
        await uow.accounts.update(locked)
        if code is None or code_hash is None:
            await uow.commit()
            return SignInOutcome(account=locked)
        await uow.otp_challenges.replace(
            OtpChallenge(
                id=uuid4(),
                account_id=locked.id,
                device_id=device_id,
                code_hash=code_hash,
                expires_at=now + deps.lifetimes.otp,
                attempts=0,
                created_at=now,
            )
        )
        uow.record(
            OtpRequested(
                to=locked.email,
                username=locked.username,
                otp=code,
                expires_in_minutes=max(1, int(deps.lifetimes.otp.total_seconds()) // 60),
            )
        )
        await uow.commit()
        return SignInOutcome(account=None)


@retry_on_conflict
async def verify_otp(command: VerifyOtp, deps: HandlerDependencies) -> Account:
    """Check the code for this account and device; a success makes the device known."""
    device_id = check_device_id(command.device_id)
    now = deps.clock()
    async with deps.uow_factory() as uow:
        found = await find_by_identifier(uow, command.email_or_username)
        # Account row first, then the challenge row (the lock order every command of an account follows);
        # the attempt is counted and committed before the code is checked, so parallel guesses cannot
        # exceed the limit.
        account = None if found is None else await uow.accounts.get_for_update(found.id)
        challenge = None
        if account is not None:
            challenge = await uow.otp_challenges.get_for_device(account.id, device_id)
        if account is not None and challenge is not None:
            challenge.ensure_usable(now)
            challenge.record_failed_attempt()
            await uow.otp_challenges.update(challenge)
            await uow.commit()
    if account is None or challenge is None:
        await deps.otp_hasher.verify_dummy(command.otp)
        raise InvalidOtp()
    well_formed = _OTP_PATTERN.fullmatch(command.otp) is not None
    if not (well_formed and await deps.otp_hasher.verify(challenge.code_hash, command.otp)):
        if challenge.attempts >= OTP_MAX_ATTEMPTS:
            raise OtpAttemptsExhausted()
        raise InvalidOtp()
    async with deps.uow_factory() as uow:
        locked = await uow.accounts.get_for_update(account.id)
        current = None if locked is None else await uow.otp_challenges.get_for_device(locked.id, device_id)
        if locked is None or current is None or current.id != challenge.id:
            raise InvalidOtp()  # used or replaced by a concurrent request meanwhile
        await uow.otp_challenges.delete(current.id)
        if not locked.email_verified:
            # The code was read from the mailbox: that verifies the address as the emailed link would.
            locked.mark_email_verified(now)
        locked.signin_succeeded()
        await uow.accounts.update(locked)
        await uow.accounts.add_known_device(locked.id, device_id, now)
        await uow.commit()
        return locked


@retry_on_conflict
async def get_current_user(command: GetCurrentUser, deps: HandlerDependencies) -> Account:
    async with deps.uow_factory() as uow:
        return await get_existing_account(uow, command.account_id)


@retry_on_conflict
async def sign_out(command: SignOut, deps: HandlerDependencies) -> None:
    """Record the sign-out time; revoking the session itself is the gateway's job."""
    async with deps.uow_factory() as uow:
        account = await get_existing_account(uow, command.account_id)
        account.record_sign_out(deps.clock())
        await uow.accounts.update(account)
        await uow.commit()
