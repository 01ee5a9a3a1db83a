"""The error family of apiforge.

Every expected failure is an :class:`ApiforgeError` whose message is written for
the person at the terminal. The CLI catches them in one place, prints the
message on one line and exits with :attr:`ApiforgeError.exit_code`.
"""

from __future__ import annotations

__all__ = [
    "ApiforgeError",
    "ConflictError",
    "Interrupted",
    "UsageError",
    "UserError",
]


class ApiforgeError(Exception):
    """Root of every error apiforge raises on purpose."""

    exit_code = 1


class UserError(ApiforgeError):
    """An expected failure: the message says what went wrong and what to do."""


class UsageError(UserError):
    """Bad input: an invalid name, an unknown answer, a target that is in the way."""

    exit_code = 2


class ConflictError(UserError):
    """A merge left conflicts that the user has to resolve."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


class Interrupted(UserError):
    """The user pressed Ctrl-C; everything apiforge had started was rolled back."""

    exit_code = 130
