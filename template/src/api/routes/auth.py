from typing import Annotated

from fastapi import APIRouter, Form, status

from src.api.deps import ClientAddress, SessionDep, SettingsDep, TransactionsDep
from src.api.responses import error_responses
from src.schemas.auth import LoginForm, RefreshRequest, TokenPair
from src.services.account import AccountService
from src.services.auth import AuthService

router = APIRouter(prefix="/auth", tags=["auth"], responses=error_responses(400, 422, 503))


@router.post("/token", responses=error_responses(401, 429))
async def login(
    form: Annotated[LoginForm, Form()],
    transactions: TransactionsDep,
    settings: SettingsDep,
    client: ClientAddress,
) -> TokenPair:
    """OAuth2 password flow: `username` is the email address.

    Failed attempts are limited per account and per client address (429 with Retry-After).
    """
    return await AccountService(transactions, settings, client=client).login(
        form.username, form.password
    )


@router.post("/refresh", responses=error_responses(401, 429))
async def refresh(
    data: RefreshRequest,
    transactions: TransactionsDep,
    settings: SettingsDep,
    client: ClientAddress,
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working.

    Send one refresh at a time per session: a refresh token that comes back after it was
    used looks stolen, and ends every session of the user.
    """
    return await AccountService(transactions, settings, client=client).refresh(data.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(data: RefreshRequest, session: SessionDep, client: ClientAddress) -> None:
    """Revoke a refresh token. Unknown or already revoked tokens are accepted silently."""
    await AuthService(session).logout(data.refresh_token, client=client)
