"""What the observability tests share: Sentry's events, caught before they leave."""

from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

DSN = "https://0123456789abcdef0123456789abcdef@sentry.invalid/42"


class CapturedEvents(Transport):
    """Keeps what would be sent to Sentry."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event" and item.payload.json is not None:
                self.events.append(item.payload.json)


@pytest.fixture
def reported() -> Iterator[CapturedEvents]:
    """Where Sentry's events go once a test has set it up; Sentry is off again after."""
    transport = CapturedEvents()
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: reports nothing
