"""The audit trail: one structured log line per security event.

Lines go to the `src.audit` logger at INFO, carry the request id like every other line,
and never a password or a token. Unknown users are named by a hash of the email tried.
"""

import hashlib
import logging
import uuid

logger = logging.getLogger("src.audit")


def email_digest(email: str) -> str:
    """A stable pseudonym for an email address, for logs and rate-limit keys."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def audit(
    event: str,
    *,
    client: str,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    level: int = logging.INFO,
) -> None:
    """Log `event` (for example `login_failed`) with who and from where."""
    fields: dict[str, object] = {"event": event, "client": client}
    if user_id is not None:
        fields["user_id"] = str(user_id)
    elif email is not None:
        fields["email_sha256"] = email_digest(email)
    logger.log(level, "audit %s", event, extra=fields)
