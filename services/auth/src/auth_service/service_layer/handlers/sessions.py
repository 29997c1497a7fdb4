"""Sign-in (with the new-device OTP step), current user and sign-out."""

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
from auth_service.service_layer.handlers.common import find_by_identifier, get_existing_account
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
    async with deps.uow_factory() as uow:
        account = await find_by_identifier(uow, command.email_or_username)
        if account is None:
            await deps.hasher.verify_dummy(command.password)
            raise InvalidCredentials()
        if not await deps.hasher.verify(account.password_hash, command.password):
            raise InvalidCredentials()
        now = deps.clock()
        # Slow hashing first, row locks after: nothing is held while argon2 runs.
        upgraded_hash = None
        if deps.hasher.needs_rehash(account.password_hash):
            # Upgrade hashes created under older argon2 parameters while the plain password is at hand.
            upgraded_hash = await deps.hasher.hash(command.password)
        known_device = await uow.accounts.is_known_device(account.id, device_id)
        code = None if known_device else deps.secrets.otp_code()
        code_hash = None if code is None else await deps.hasher.hash(code)
        if upgraded_hash is not None or code_hash is not None:
            # Account row first, then its challenge: the lock order every command of an account follows.
            locked = await uow.accounts.get_for_update(account.id)
            if locked is None:
                raise InvalidCredentials()
            account = locked
        if upgraded_hash is not None:
            account.change_password_hash(upgraded_hash, now)
            await uow.accounts.update(account)
        if code is None or code_hash is None:
            await uow.commit()
            return SignInOutcome(account=account)
        await uow.otp_challenges.replace(
            OtpChallenge(
                id=uuid4(),
                account_id=account.id,
                device_id=device_id,
                code_hash=code_hash,
                expires_at=now + deps.lifetimes.otp,
                attempts=0,
                created_at=now,
            )
        )
        uow.record(
            OtpRequested(
                to=account.email,
                username=account.username,
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
    async with deps.uow_factory() as uow:
        found = await find_by_identifier(uow, command.email_or_username)
        # Account row first, then the challenge row (the lock order every command of an account follows);
        # with the challenge locked too, parallel guesses are serialised and none escapes the attempt limit.
        account = None if found is None else await uow.accounts.get_for_update(found.id)
        challenge = None
        if account is not None:
            challenge = await uow.otp_challenges.get_for_device(account.id, device_id)
        if account is None or challenge is None:
            await deps.hasher.verify_dummy(command.otp)
            raise InvalidOtp()
        now = deps.clock()
        challenge.ensure_usable(now)
        well_formed = _OTP_PATTERN.fullmatch(command.otp) is not None
        if not (well_formed and await deps.hasher.verify(challenge.code_hash, command.otp)):
            challenge.record_failed_attempt()
            await uow.otp_challenges.update(challenge)
            # Commit the failed attempt before answering, or the attempt limit could be bypassed.
            await uow.commit()
            if challenge.attempts >= OTP_MAX_ATTEMPTS:
                raise OtpAttemptsExhausted()
            raise InvalidOtp()
        await uow.otp_challenges.delete(challenge.id)
        await uow.accounts.add_known_device(account.id, device_id, now)
        await uow.commit()
        return account


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
