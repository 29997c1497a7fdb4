"""Sign-up, email verification and development seeding."""

from __future__ import annotations

import random
import secrets
from uuid import uuid4

from auth_service.domain.credentials import (
    check_device_id,
    check_password,
    normalise_country,
    normalise_email,
    normalise_username,
)
from auth_service.domain.errors import (
    CredentialsPolicyViolation,
    DuplicateAccountError,
    EmailAlreadyVerified,
)
from auth_service.domain.events import AccountCreated, EmailVerificationRequested
from auth_service.domain.model import Account, TokenPurpose
from auth_service.service_layer.commands import ResendVerification, SeedAccounts, SignUp, VerifyEmail
from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.handlers.common import (
    consume_link_token,
    get_existing_account,
    issue_link_token,
)
from auth_service.service_layer.retry import retry_on_conflict

SEED_PASSWORD = "gigstack-seed-password"  # noqa: S105 - development-only fixture, documented in the README
SEED_MAX_COUNT = 100
_SEED_COUNTRIES = ("Germany", "India", "Kenya", "Brazil", "Canada", "Vietnam", "Poland", "Nigeria")


@retry_on_conflict
async def sign_up(command: SignUp, deps: HandlerDependencies) -> None:
    """Create an account unless the email or username is taken; the caller cannot tell which happened."""
    username = normalise_username(command.username)
    check_password(command.password)
    country = normalise_country(command.country)
    check_device_id(command.device_id)
    email = _deliverable_email_or_none(command.email)
    # Hash before looking anything up: argon2 dominates the cost, so existing and new addresses take
    # the same time and the response timing does not reveal which accounts exist.
    password_hash = await deps.hasher.hash(command.password)
    if email is None:
        return
    now = deps.clock()
    try:
        async with deps.uow_factory() as uow:
            if await uow.accounts.exists(email=email, username=username):
                return
            account = Account(
                id=uuid4(),
                username=username,
                email=email,
                password_hash=password_hash,
                country=country,
                email_verified=False,
                created_at=now,
                updated_at=now,
            )
            await uow.accounts.add(account)
            # The sign-up device is NOT trusted: whoever signs up has proven nothing about the mailbox, and
            # trusting their device would let someone who registered a victim's address keep signing in
            # after the victim takes the account over (pre-hijacking). Mailbox proof (link or OTP) trusts one.
            token = await issue_link_token(uow, deps, account, TokenPurpose.EMAIL_VERIFICATION, now)
            uow.record(_account_created(account))
            uow.record(EmailVerificationRequested(to=email, username=username, token=token))
            await uow.commit()
    except DuplicateAccountError:
        # A concurrent sign-up took the email or username between the check and the insert.
        return


@retry_on_conflict
async def verify_email(command: VerifyEmail, deps: HandlerDependencies) -> Account:
    now = deps.clock()
    async with deps.uow_factory() as uow:
        _, account = await consume_link_token(uow, TokenPurpose.EMAIL_VERIFICATION, command.token, now)
        account.mark_email_verified(now)
        await uow.accounts.update(account)
        device_id = _valid_device_or_none(command.device_id)
        if device_id is not None:
            # Opening the emailed link proves the mailbox as an OTP does, on the device that opened it.
            await uow.accounts.add_known_device(account.id, device_id, now)
        await uow.commit()
        return account


@retry_on_conflict
async def resend_verification(command: ResendVerification, deps: HandlerDependencies) -> None:
    now = deps.clock()
    async with deps.uow_factory() as uow:
        account = await get_existing_account(uow, command.account_id, lock=True)
        if account.email_verified:
            raise EmailAlreadyVerified()
        token = await issue_link_token(uow, deps, account, TokenPurpose.EMAIL_VERIFICATION, now)
        uow.record(EmailVerificationRequested(to=account.email, username=account.username, token=token))
        await uow.commit()


@retry_on_conflict
async def seed_accounts(command: SeedAccounts, deps: HandlerDependencies) -> list[Account]:
    """Create ``count`` verified accounts sharing SEED_PASSWORD (development only; the API guards it)."""
    count = max(1, min(command.count, SEED_MAX_COUNT))
    # One hash for all: argon2 per seeded account would make seeding 100 accounts take tens of seconds.
    password_hash = await deps.hasher.hash(SEED_PASSWORD)
    now = deps.clock()
    accounts: list[Account] = []
    async with deps.uow_factory() as uow:
        for _ in range(count):
            username = f"seed_{secrets.token_hex(4)}"
            account = Account(
                id=uuid4(),
                username=username,
                email=f"{username}@seed.gigstack.test",
                password_hash=password_hash,
                country=random.choice(_SEED_COUNTRIES),
                email_verified=True,
                created_at=now,
                updated_at=now,
            )
            await uow.accounts.add(account)
            uow.record(_account_created(account))
            accounts.append(account)
        await uow.commit()
    return accounts


def _deliverable_email_or_none(raw: str) -> str | None:
    """The canonical address, or None for one the published schema admits but mail cannot reach (a domain
    with no IDNA form, a non-ASCII local part): answered like a taken address ("if the details can be
    used"), and nothing is stored. Input the schema refuses never gets here (422)."""
    try:
        return normalise_email(raw)
    except CredentialsPolicyViolation:
        return None


def _valid_device_or_none(raw: str | None) -> str | None:
    try:
        return check_device_id(raw)
    except CredentialsPolicyViolation:
        return None


def _account_created(account: Account) -> AccountCreated:
    return AccountCreated.at(
        user_id=str(account.id),
        username=account.username,
        email=account.email,
        country=account.country,
        created_at=account.created_at,
    )
