import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from src.db.models.user import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from src.schemas.common import SINGLE_LINE_TEXT

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128

Email = Annotated[EmailStr, Field(max_length=EMAIL_MAX_LENGTH), AfterValidator(str.lower)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
# Checked as sent (so the OpenAPI document's limits are exact), then stripped of the spaces
# around it: the pattern leaves a visible character, so the name never ends up empty.
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=FULL_NAME_MAX_LENGTH, pattern=SINGLE_LINE_TEXT),
    AfterValidator(str.strip),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: FullName | None = None


class UserUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    password: Password | None = None
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
