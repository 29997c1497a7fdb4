"""Forgot, reset and change password."""

from __future__ import annotations

from uuid import UUID

from auth_service.domain.credentials import check_password, normalise_email
from auth_service.domain.errors import (
    AccountNotFound,
    CredentialsPolicyViolation,
    PasswordConfirmationMismatch,
    WrongCurrentPassword,
)
from auth_service.domain.events import PasswordResetCompleted, PasswordResetRequested
from auth_service.domain.model import TokenPurpose
from auth_service.service_layer.commands import ChangePassword, ForgotPassword, ResetPassword
from auth_service.service_layer.dependencies import HandlerDependencies
from auth_service.service_layer.handlers.common import (
    consume_link_token,
    count_password_attempt,
    get_existing_account,
    issue_link_token,
)
from auth_service.service_layer.retry import retry_on_conflict


@retry_on_conflict
async def forgot_password(command: ForgotPassword, deps: HandlerDependencies) -> None:
    """Email a reset link if the account exists; the caller gets the same answer either way."""
    try:
        email = normalise_email(command.email)
    except CredentialsPolicyViolation:
        return  # no account can have an address without a canonical form: the same answer as unknown
    now = deps.clock()
    async with deps.uow_factory() as uow:
        found = await uow.accounts.get_by_email(email)
        # Lock by primary key (no gap lock) before touching the account's tokens; see issue_link_token.
        account = None if found is None else await uow.accounts.get_for_update(found.id)
        if account is None:
            return
        token = await issue_link_token(uow, deps, account, TokenPurpose.PASSWORD_RESET, now)
        uow.record(PasswordResetRequested(to=account.email, username=account.username, token=token))
        await uow.commit()


@retry_on_conflict
async def reset_password(command: ResetPassword, deps: HandlerDependencies) -> UUID:
    """Set the new password and return the account id, whose every session the caller must end."""
    check_password(command.password)
    if command.password != command.confirm_password:
        raise PasswordConfirmationMismatch()
    password_hash = await deps.hasher.hash(command.password)
    now = deps.clock()
    async with deps.uow_factory() as uow:
        _, account = await consume_link_token(uow, TokenPurpose.PASSWORD_RESET, command.token, now)
        account.change_password_hash(password_hash, now)
        # Reset is the way out of a throttled account: the budget is restored with the new password.
        account.signin_succeeded()
        # The reset link was read from the mailbox, so the address is proven as by the verification link.
        account.mark_email_verified(now)
        await uow.accounts.update(account)
        uow.record(PasswordResetCompleted(to=account.email, username=account.username))
        await uow.commit()
        return account.id


@retry_on_conflict
async def change_password(command: ChangePassword, deps: HandlerDependencies) -> None:
    """Change the password after checking the current one, which counts against the sign-in budget: a
    stolen session must not become an unthrottled oracle for the password."""
    check_password(command.new_password, field="new_password")
    if command.new_password == command.current_password:
        raise CredentialsPolicyViolation("new_password", "New password must differ from the current one")
    counted = await count_password_attempt(deps, account_id=command.account_id)
    if counted is None:
        raise AccountNotFound()
    account, _ = counted
    if not await deps.hasher.verify(account.password_hash, command.current_password):
        raise WrongCurrentPassword()
    new_hash = await deps.hasher.hash(command.new_password)
    async with deps.uow_factory() as uow:
        locked = await get_existing_account(uow, command.account_id, lock=True)
        if locked.password_hash != account.password_hash:
            raise WrongCurrentPassword()  # changed by a concurrent request while we were hashing
        locked.change_password_hash(new_hash, deps.clock())
        locked.signin_succeeded()
        await uow.accounts.update(locked)
        await uow.commit()
