import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from src.db.models.user import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from src.schemas.common import NO_CONTROL_CHARACTERS

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(str.lower)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
FullName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=FULL_NAME_MAX_LENGTH,
        pattern=NO_CONTROL_CHARACTERS,
    ),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """Profile fields to change; omitted fields stay as they are.

    The email and the password change through their own endpoints, which need the
    current password (`src.schemas.account`).
    """

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    created_at: datetime
    updated_at: datetime


_EMAIL = TypeAdapter(Email)


def normalize_email(value: str) -> str | None:
    """The email as registration stores it, or None when `value` is not a valid email."""
    try:
        return _EMAIL.validate_python(value)
    except ValidationError:
        return None
