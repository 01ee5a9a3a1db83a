"""Requests that need the current password: re-authentication for sensitive changes."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from src.schemas.user import PASSWORD_MAX_LENGTH, Email, Password

CurrentPassword = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: CurrentPassword
    new_password: Password


class EmailChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: CurrentPassword
    email: Email


class AccountDeletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: CurrentPassword
