import io
import json
import logging
import sys

from src.core.logging import (
    JsonFormatter,
    PlainFormatter,
    RequestIdFilter,
    configure_logging,
    formatter_for,
    request_id_var,
)


def _format(record: logging.LogRecord) -> dict[str, object]:
    RequestIdFilter().filter(record)
    entry: dict[str, object] = json.loads(JsonFormatter().format(record))
    return entry


def test_log_lines_are_json_with_the_request_id() -> None:
    record = logging.makeLogRecord({"name": "src.test", "msg": "hello %s", "args": ("world",)})
    token = request_id_var.set("req-1")
    try:
        entry = _format(record)
    finally:
        request_id_var.reset(token)

    assert entry["message"] == "hello world"
    assert entry["logger"] == "src.test"
    assert entry["request_id"] == "req-1"


def test_extra_fields_and_exceptions_are_kept() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.makeLogRecord(
        {"msg": "failed", "exc_info": exc_info, "status": 500, "color_message": "\x1b[31m"}
    )

    entry = _format(record)

    assert entry["status"] == 500
    assert "ValueError: broken" in str(entry["exc_info"])
    assert entry["request_id"] is None
    assert "color_message" not in entry


class _Stream(io.StringIO):
    def __init__(self, *, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_auto_is_plain_at_a_terminal_and_json_elsewhere() -> None:
    assert isinstance(formatter_for("auto", _Stream(terminal=True)), PlainFormatter)
    assert isinstance(formatter_for("auto", _Stream(terminal=False)), JsonFormatter)
    assert isinstance(formatter_for("json", _Stream(terminal=True)), JsonFormatter)
    plain = formatter_for("plain", _Stream(terminal=False))
    assert isinstance(plain, PlainFormatter)
    assert not plain.colour


def test_plain_lines_carry_the_request_id_and_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "src.test", "levelname": "WARNING", "msg": "slow %s", "args": ("query",)}
    )
    record.status = 503
    token = request_id_var.set("req-2")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = PlainFormatter(colour=False).format(record)
    coloured = PlainFormatter(colour=True).format(record)

    assert line.endswith("WARNING  src.test: slow query request_id=req-2 status=503")
    assert "\x1b[33mWARNING " in coloured
    assert "\x1b" not in line


def test_configure_logging_switches_the_format_of_its_one_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging("INFO", "plain")
        configure_logging("INFO", "json")
        ours = [handler for handler in root.handlers if handler not in before]
        formatters = [
            handler.formatter for handler in root.handlers if handler.get_name() == "service"
        ]
    finally:
        root.handlers = before

    assert len(ours) <= 1
    assert len(formatters) == 1
    assert isinstance(formatters[0], JsonFormatter)
