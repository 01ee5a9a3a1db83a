import uuid

from sqlalchemy import String, Uuid, false, true
from sqlalchemy.orm import Mapped, mapped_column

from src.db.models.base import Base, TimestampMixin

EMAIL_MAX_LENGTH = 254
FULL_NAME_MAX_LENGTH = 100


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    # Always stored lower-cased, so the unique index is case-insensitive in effect.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True, index=True)
    full_name: Mapped[str | None] = mapped_column(String(FULL_NAME_MAX_LENGTH))
    hashed_password: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_superuser: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Carried by every access token as its `ver` claim; raising it ends all of them at once.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"User(id={self.id!s}, email={self.email!r})"
