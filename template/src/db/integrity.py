"""What an `IntegrityError` from either database means."""

from sqlalchemy.exc import IntegrityError

# PostgreSQL's SQLSTATE for foreign_key_violation; SQLite has no code, only the message.
FOREIGN_KEY_VIOLATION = "23503"


def violates_foreign_key(exc: IntegrityError) -> bool:
    """Whether *exc* is a foreign key violation: a row referred to does not exist, or a row
    that is referred to was deleted."""
    code = getattr(exc.orig, "sqlstate", None)
    return code == FOREIGN_KEY_VIOLATION or "FOREIGN KEY constraint failed" in str(exc.orig)
