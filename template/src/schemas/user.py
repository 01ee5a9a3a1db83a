import unicodedata
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
from pydantic_core import PydanticCustomError

from src.core.config import get_settings
from src.core.passwords import is_common_password
from src.db.models.user import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from src.schemas.common import SINGLE_LINE_TEXT

# Read once, at import, so that the OpenAPI document states the configured minimum.
PASSWORD_MIN_LENGTH = get_settings().password_min_length
PASSWORD_MAX_LENGTH = 128


def _canonical_email(value: str) -> str:
    # email-validator returns the local part in Unicode NFC; lowercasing can leave a string
    # that is no longer NFC ("H" + U+0331 becomes "h" + U+0331, which NFC composes into
    # U+1E96), so the lowercase form is normalised again: equivalent spellings are one user.
    return unicodedata.normalize("NFC", value.lower())


def _not_common(password: str) -> str:
    if is_common_password(password):
        raise PydanticCustomError(
            "common_password",
            "This password is one of the most commonly used; choose another.",
        )
    return password


# email-validator limits the address as sent; the limit holds for the stored form too, as
# lowercasing can lengthen a value ("\u0130" -> "i\u0307").
Email = Annotated[EmailStr, AfterValidator(_canonical_email), Field(max_length=EMAIL_MAX_LENGTH)]
Password = Annotated[
    str,
    Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    AfterValidator(_not_common),
]
# Checked as sent (so the OpenAPI document's limits are exact), then stripped of the spaces
# around it: the pattern leaves a visible character, so the name never ends up empty.
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=FULL_NAME_MAX_LENGTH, pattern=SINGLE_LINE_TEXT),
    AfterValidator(str.strip),
]

_EMAIL = TypeAdapter(Email)


def normalize_email(value: str) -> str | None:
    """The email as registration stores it, or None when `value` is not a valid email.

    Look users up by this form: it is NFC, lowercase and validated exactly as `Email`.
    """
    try:
        return _EMAIL.validate_python(value)
    except ValidationError:
        return None


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


# Validates a page of rows (or objects) with `UserRead`'s fields in one call.
USER_READ_LIST = TypeAdapter(list[UserRead])
