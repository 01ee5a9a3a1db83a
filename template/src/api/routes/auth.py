from typing import Annotated

from fastapi import APIRouter, Form, status

from src.api.deps import SessionDep
from src.api.responses import error_responses
from src.schemas.auth import LoginForm, RefreshRequest, TokenPair
from src.services.auth import AuthService

router = APIRouter(prefix="/auth", tags=["auth"], responses=error_responses(400, 422, 503))


@router.post("/token", responses=error_responses(401))
async def login(form: Annotated[LoginForm, Form()], session: SessionDep) -> TokenPair:
    """OAuth2 password flow: `username` is the email address."""
    return await AuthService(session).login(form.username, form.password)


@router.post("/refresh", responses=error_responses(401))
async def refresh(data: RefreshRequest, session: SessionDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    return await AuthService(session).refresh(data.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(data: RefreshRequest, session: SessionDep) -> None:
    """Revoke a refresh token. Unknown or already revoked tokens are accepted silently."""
    await AuthService(session).logout(data.refresh_token)
