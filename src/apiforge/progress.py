"""How long-running core functions tell the CLI which step they are on."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "silent"]

Progress = Callable[[str], None]
"""Called with the name of each step as it starts (``"render"``, ``"merge"``...)."""


def silent(_step: str) -> None:
    """The progress of a caller that shows none."""
