from typing import Literal

from pydantic import BaseModel, Field

from src.db.models.user import EMAIL_MAX_LENGTH
from src.schemas.common import NO_CONTROL_CHARACTERS
from src.schemas.user import PASSWORD_MAX_LENGTH

REFRESH_TOKEN_MAX_LENGTH = 256


class LoginForm(BaseModel):
    """OAuth2 password grant, sent as a form (`username` is the email)."""

    grant_type: Literal["password"] = "password"
    username: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=REFRESH_TOKEN_MAX_LENGTH)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Lifetime of the access token, in seconds")
