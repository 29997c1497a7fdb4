"""Steps several handlers share: finding an account by sign-in identifier, issuing a link token."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from auth_service.domain.credentials import canonical, looks_like_email, normalise_email
from auth_service.domain.errors import AccountNotFound, CredentialsPolicyViolation, InvalidToken
from auth_service.domain.model import Account, AccountToken, TokenPurpose, token_digest
from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.unit_of_work import AuthUnitOfWork


async def find_by_identifier(uow: AuthUnitOfWork, identifier: str) -> Account | None:
    """Look an account up by email (anything with an '@') or by username, in their canonical forms.

    Whatever variant was typed (case, compatibility forms, invisible characters, a Unicode domain) finds the
    one account it names, under the store's binary comparison; input with no canonical form finds nothing.
    """
    try:
        if looks_like_email(identifier):
            return await uow.accounts.get_by_email(normalise_email(identifier))
        return await uow.accounts.get_by_username(canonical(identifier, "email_or_username"))
    except CredentialsPolicyViolation:
        return None


async def count_password_attempt(
    deps: HandlerDependencies, *, identifier: str | None = None, account_id: UUID | None = None
) -> tuple[Account, bool] | None:
    """Count one password attempt against the account's budget, in a transaction of its own, *before* the
    password is checked (the caller refunds it on success with ``Account.signin_succeeded``).

    Returns the account and whether its budget was already spent, or None when no account matches.
    Raises SignInThrottled while the account's delay runs. Commits before returning, so the caller can hash
    without holding a database connection.
    """
    async with deps.uow_factory() as uow:
        if account_id is None:
            found = None if identifier is None else await find_by_identifier(uow, identifier)
            account_id = None if found is None else found.id
        account = None if account_id is None else await uow.accounts.get_for_update(account_id)
        if account is None:
            return None
        budget_spent = account.start_signin_attempt(deps.clock())
        await uow.accounts.update(account)
        await uow.commit()
        return account, budget_spent


async def get_existing_account(uow: AuthUnitOfWork, account_id: UUID, *, lock: bool = False) -> Account:
    """The caller's account (locked when ``lock``: AccountRepository.get_for_update) or AccountNotFound."""
    account = await (uow.accounts.get_for_update(account_id) if lock else uow.accounts.get(account_id))
    if account is None:
        raise AccountNotFound()
    return account


async def consume_link_token(
    uow: AuthUnitOfWork, purpose: TokenPurpose, raw_token: str, now: datetime
) -> tuple[AccountToken, Account]:
    """Mark a link token used and return it with its (locked) account; InvalidToken if it cannot be used.

    The token is first read without a lock only to learn its account; the account row is locked next and
    the token re-read with a lock, so the order is account -> token as in every other command.
    """
    digest = token_digest(raw_token)
    found = await uow.tokens.get_by_hash(purpose, digest)
    if found is None:
        raise InvalidToken()
    account = await uow.accounts.get_for_update(found.account_id)
    token = await uow.tokens.get_by_hash(purpose, digest, lock=True)
    if account is None or token is None:
        raise InvalidToken()
    token.consume(now)
    await uow.tokens.update(token)
    return token, account


async def issue_link_token(
    uow: AuthUnitOfWork,
    deps: HandlerDependencies,
    account: Account,
    purpose: TokenPurpose,
    now: datetime,
) -> str:
    """Store a fresh single-use token (as its digest), revoking earlier ones; return the raw token.

    The caller must hold the account's row lock (created in this transaction, or get_for_update): that is
    what keeps two concurrent requests from each leaving a live token behind.
    """
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
