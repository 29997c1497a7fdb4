"""Steps several handlers share: finding an account by sign-in identifier, issuing a link token."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from auth_service.domain.credentials import looks_like_email
from auth_service.domain.exceptions import AccountNotFound
from auth_service.domain.model import Account, AccountToken, TokenPurpose, token_digest
from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.unit_of_work import AuthUnitOfWork


async def find_by_identifier(uow: AuthUnitOfWork, identifier: str) -> Account | None:
    """Look an account up by email (anything with an '@') or by username, both case-insensitively."""
    canonical = identifier.strip().lower()
    if looks_like_email(canonical):
        return await uow.accounts.get_by_email(canonical)
    return await uow.accounts.get_by_username(canonical)


async def get_existing_account(uow: AuthUnitOfWork, account_id: UUID) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None:
        raise AccountNotFound()
    return account


async def issue_link_token(
    uow: AuthUnitOfWork,
    deps: HandlerDependencies,
    account: Account,
    purpose: TokenPurpose,
    now: datetime,
) -> str:
    """Store a fresh single-use token (as its digest), revoking earlier ones; return the raw token."""
    lifetime = _lifetime(deps, purpose)
    await uow.tokens.revoke_outstanding(account.id, purpose, now)
    raw_token = deps.secrets.link_token()
    await uow.tokens.add(
        AccountToken(
            id=uuid4(),
            account_id=account.id,
            purpose=purpose,
            token_hash=token_digest(raw_token),
            expires_at=now + lifetime,
            used_at=None,
            created_at=now,
        )
    )
    return raw_token


def _lifetime(deps: HandlerDependencies, purpose: TokenPurpose) -> timedelta:
    if purpose is TokenPurpose.EMAIL_VERIFICATION:
        return deps.lifetimes.email_verification
    return deps.lifetimes.password_reset
