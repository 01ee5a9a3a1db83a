import json
import logging
import sys

from src.core.logging import JsonFormatter, RequestIdFilter, request_id_var


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
