from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from src.db.models.base import Base, UTCDateTime

RATE_LIMIT_KEY_MAX_LENGTH = 160


class RateLimitCounter(Base):
    """Attempts counted against one rate limit for one subject, in a fixed window.

    Kept in the database so every replica of the service counts the same attempts.
    `key` names the limit and the subject (a client address, or a hash of an email).
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(RATE_LIMIT_KEY_MAX_LENGTH), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer())
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
